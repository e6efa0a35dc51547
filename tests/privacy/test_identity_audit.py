"""Identity leakage with the real dlib model on the shared sample (plus two public-domain
portraits in the gallery): the plumbing, the embedder's robustness, and chance level."""
import os.path as osp

import cv2
import numpy as np
import pytest

from rdid_mm.privacy import IdentityAudit, identity_top1
from rdid_mm.utils.io import read_rgb

from .conftest import box_slices, flip_faces, sample_faces, write_row


@pytest.fixture(scope='module')
def audit(privacy_sample, portrait_gallery, dlib_embedder):
    return IdentityAudit(privacy_sample, embedder=dlib_embedder, gallery_dir=portrait_gallery)


def test_gallery_holds_the_embeddable_faces_and_the_portraits(audit, privacy_sample):
    boxes = [b for bs in sample_faces(privacy_sample).values() for b in bs]
    sizes = np.sqrt([b[2] * b[3] for b in boxes])
    assert len(audit.faces) == int(np.sum(sizes >= 24)) >= 8
    assert len(audit.too_small) == int(np.sum(sizes < 24))
    gallery = audit.gallery
    assert gallery.num_dataset_faces == len(audit.faces)
    assert [label.split('#')[0] for label in gallery.labels[gallery.num_dataset_faces:]] == [
        'gallery:astronaut.png', 'gallery:grace_hopper.png'], 'one face found in each portrait'
    assert audit.chance(1) == pytest.approx(1 / gallery.size)


def test_original_row_identifies_every_face(audit):
    results = audit.score(audit.row('original'))
    assert len(results) == len(audit.faces)
    assert all(r.rank == 1 and r.distance == 0 for r in results)


def test_flipped_and_jpeg30_faces_are_still_identified(audit, privacy_sample, tmp_path):
    flipped = write_row(privacy_sample, tmp_path / 'flip', flip_faces)
    jpeg = write_row(privacy_sample, tmp_path / 'jpeg', lambda im, b, n: im, '.jpg', 30)
    for spec in (f'restored:flip={flipped}', f'restored:jpeg30={jpeg}'):
        results = audit.score(audit.row(spec))
        assert len(results) == len(audit.faces)
        missed = [r for r in results if r.rank != 1]
        assert len(missed) <= 1, f'{spec}: {[(r.face.size, r.rank) for r in missed]}'
        assert all(0 < r.distance < 0.6 for r in results if r.rank == 1)


def test_other_peoples_faces_stay_near_chance(audit, privacy_sample, tmp_path):
    """Each face box gets the next embeddable face's pixels (a derangement of the gallery)."""
    faces = audit.faces
    crops = {}
    for face in faces:
        image = read_rgb(osp.join(privacy_sample, 'gt', face.file_name))
        crops[(face.file_name, face.index)] = image[box_slices(face.box, image.shape)]
    donor = {(f.file_name, f.index): faces[(k + 1) % len(faces)] for k, f in enumerate(faces)}

    def paste_other(image, boxes, file_name):
        out = image.copy()
        for index, box in enumerate(boxes):
            if (file_name, index) not in donor:
                continue
            other = donor[(file_name, index)]
            rows, cols = box_slices(box, image.shape)
            patch = crops[(other.file_name, other.index)]
            out[rows, cols] = cv2.resize(patch, (cols.stop - cols.start, rows.stop - rows.start))
        return out

    deranged = write_row(privacy_sample, tmp_path / 'other', paste_other)
    results = audit.score(audit.row(f'restored:deranged={deranged}'))
    assert len(results) == len(faces)
    assert sum(r.top1 for r in results) <= 2
    nearest_donor = sum(r.nearest == f'{donor[(r.face.file_name, r.face.index)].file_name}#'
                        f'{donor[(r.face.file_name, r.face.index)].index}' for r in results)
    assert nearest_donor >= len(faces) - 1, 'the pasted face is recognised as its own person'


@pytest.mark.slow
def test_mosaic_ranks_match_a_direct_dlib_computation(audit, privacy_sample):
    import dlib

    from rdid_mm.privacy.embedders.dlib_resnet import (
        LANDMARK_FILE,
        RESNET_FILE,
        face_recognition_models_dir,
    )
    folder = face_recognition_models_dir()
    predictor = dlib.shape_predictor(osp.join(folder, LANDMARK_FILE))
    resnet = dlib.face_recognition_model_v1(osp.join(folder, RESNET_FILE))

    def embed(image, box):
        x, y, w, h = box
        rect = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
        return np.array(resnet.compute_face_descriptor(image, predictor(image, rect), 0, 0.25))

    gallery = np.array([embed(read_rgb(osp.join(privacy_sample, 'gt', f.file_name)), f.box)
                        for f in audit.faces])
    assert np.allclose(gallery, audit.gallery.vectors[:len(audit.faces)], atol=1e-6)
    results = audit.score(audit.row('mosaic:s8'))
    gallery = audit.gallery.vectors  # with the portraits
    for k, (face, result) in enumerate(zip(audit.faces, results)):
        mosaic = read_rgb(osp.join(privacy_sample, 'mosaic', 's8',
                                   osp.splitext(face.file_name)[0] + '.png'))
        distances = np.linalg.norm(gallery - embed(mosaic, face.box), axis=1)
        assert result.distance == pytest.approx(distances[k], abs=1e-6)
        assert result.rank == 1 + int(np.sum(np.delete(distances, k) < distances[k]))


def test_align_with_the_originals_landmarks(audit, privacy_sample, dlib_embedder):
    aligned = IdentityAudit(privacy_sample, embedder=dlib_embedder, align='original')
    results = aligned.score(aligned.row('mosaic:s16'))
    assert len(results) == len(aligned.faces)
    own = audit.score(audit.row('mosaic:s16'))
    assert [r.distance for r in results] != [r.distance for r in own]


def test_identity_top1_column_for_table1(audit):
    row = audit.row('mosaic:s8')
    columns = identity_top1(audit, row)
    results = audit.score(row)
    assert columns['identity_faces'] == len(results) == len(audit.faces)
    assert columns['identity_top1'] == pytest.approx(np.mean([r.rank == 1 for r in results]))
    assert columns['identity_chance'] == pytest.approx(1 / audit.gallery.size)


def test_bad_rows_and_mismatched_images_are_named(audit, privacy_sample, tmp_path):
    with pytest.raises(ValueError, match=r"row 'mosaic:s4': no mosaics at strength 4"):
        audit.row('mosaic:s4')
    with pytest.raises(ValueError, match=r"row 'blur': expected original, mosaic:sS"):
        audit.row('blur')
    small = write_row(privacy_sample, tmp_path / 'small', lambda im, b, n: im[::2, ::2])
    with pytest.raises(ValueError, match='pixels, but its original'):
        audit.score(audit.row(f'restored:half={small}'))


def test_missing_images_of_a_row_are_counted(audit, privacy_sample, tmp_path):
    import os
    folder = write_row(privacy_sample, tmp_path / 'partial', lambda im, b, n: im)
    name = audit.faces[0].file_name
    os.remove(osp.join(folder, osp.splitext(name)[0] + '.png'))
    results = audit.score(audit.row(f'restored:partial={folder}'))
    assert len(results) == len(audit.faces) - sum(f.file_name == name for f in audit.faces)
    assert audit.skipped['partial: missing_image'] == 1
