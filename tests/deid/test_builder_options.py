"""Builder options: publish, JPEG, --require-all-faces, settings changes, folder input."""
import json
import os
import os.path as osp
import shutil
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from rdid_mm.deid import build_deid_dataset

from tests.deid.test_builder import read_rgb, tree_digest


@pytest.fixture
def sample_args(sample_ann_file, sample_img_dir, sample_wholebody_ann_file, tmp_path):
    return dict(ann_file=sample_ann_file, img_dir=sample_img_dir, out_dir=str(tmp_path / 'out'),
                wholebody_ann=sample_wholebody_ann_file, face_sources=('wholebody', ),
                progress=False)


def test_publish_with_jpeg_writes_only_what_may_be_shared(sample_args):
    summary = build_deid_dataset(publish=True, jpeg_quality=90, strengths=(12, ), **sample_args)
    out_dir = sample_args['out_dir']
    assert sorted(p for p in os.listdir(out_dir) if not p.startswith('.')) == [
        'annotations', 'faces.json', 'mosaic', 'summary.json']
    mosaics = sorted(os.listdir(osp.join(out_dir, 'mosaic', 's12')))
    assert len(mosaics) == 4 and all(m.endswith('.jpg') for m in mosaics)
    with open(osp.join(out_dir, 'mosaic', 's12', mosaics[0]), 'rb') as f:
        assert f.read(3) == b'\xff\xd8\xff'
    assert summary['settings']['publish'] and summary['images']['done'] == 4


def test_require_all_faces_fails_images_with_missed_faces(sample_args):
    summary = build_deid_dataset(require_all_faces=True, **sample_args)
    out_dir = sample_args['out_dir']
    failed = {f['file_name'] for f in summary['failed']}
    missed_images = {m['file_name'] for m in summary['missed_face_audit']['missed_faces']}
    assert failed == missed_images and failed, 'wholebody alone misses faces in the sample'
    assert all(f['reason'] == 'missed_faces' for f in summary['failed'])
    with open(osp.join(out_dir, 'faces.json')) as f:
        published = set(json.load(f))
    with open(osp.join(out_dir, 'annotations', 'person_keypoints.json')) as f:
        assert {i['file_name'] for i in json.load(f)['images']} == published
    assert published and not published & failed
    for name in failed:
        assert not osp.exists(osp.join(out_dir, 'gt', name))
        assert not osp.exists(osp.join(out_dir, 'mosaic', 's8', osp.splitext(name)[0] + '.png'))
    assert summary['images']['failed'] == len(failed)

    # the pose-derived boxes cover every visible face of the sample: nothing fails
    args = dict(sample_args, out_dir=sample_args['out_dir'] + '_kp',
                face_sources=('wholebody', 'coco_keypoints'))
    summary = build_deid_dataset(require_all_faces=True, **args)
    assert summary['images']['failed'] == 0 and summary['missed_face_audit']['missed'] == 0


def test_other_settings_are_refused_unless_overwrite(sample_args):
    build_deid_dataset(strengths=(8, ), **sample_args)
    out_dir = sample_args['out_dir']
    with pytest.raises(ValueError, match='built with other settings.*strengths'):
        build_deid_dataset(strengths=(16, ), **sample_args)
    assert osp.isdir(osp.join(out_dir, 'mosaic', 's8'))
    summary = build_deid_dataset(strengths=(16, ), overwrite=True, **sample_args)
    assert summary['timing']['images_processed'] == 4
    assert os.listdir(osp.join(out_dir, 'mosaic')) == ['s16']


def test_folder_input_without_annotations(tmp_path, sample_img_dir):
    img_dir = tmp_path / 'photos'
    (img_dir / 'sub').mkdir(parents=True)
    shutil.copy(osp.join(sample_img_dir, '000000040083.jpg'), img_dir / 'sub' / 'street.jpg')
    Image.fromarray(np.full((30, 40), 90, np.uint8)).save(img_dir / 'flat.png')
    before = tree_digest(str(img_dir))
    out_dir = str(tmp_path / 'out')
    summary = build_deid_dataset(img_dir=str(img_dir), out_dir=out_dir, strengths=(8, ),
                                 face_sources=('centerface', ), progress=False)
    assert tree_digest(str(img_dir)) == before
    with open(osp.join(out_dir, 'faces.json')) as f:
        faces = json.load(f)
    assert list(faces) == ['flat.png', 'sub/street.jpg']
    assert faces['flat.png'] == [] and len(faces['sub/street.jpg']) >= 2
    assert all(b[5] == 'centerface' for b in faces['sub/street.jpg'])
    assert osp.isfile(osp.join(out_dir, 'mosaic', 's8', 'sub', 'street.png'))
    assert osp.isfile(osp.join(out_dir, 'gt', 'sub', 'street.jpg'))
    assert not osp.exists(osp.join(out_dir, 'annotations'))
    assert summary['input']['kind'] == 'folder'
    assert not summary['missed_face_audit']['available']
    flat = read_rgb(osp.join(out_dir, 'mosaic', 's8', 'flat.png'))
    assert flat.shape == (30, 40, 3) and (flat == 90).all()

    with pytest.raises(ValueError, match='read COCO annotations'):
        build_deid_dataset(img_dir=str(img_dir), out_dir=str(tmp_path / 'o2'),
                           face_sources=('coco_keypoints', ))



@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_images(tmp_path, make_copied_sample):
    """Peak Python memory for 48 images stays close to that for 8 (one image is ~1 MB of pixels;
    the difference allowed covers the larger annotation file)."""
    peaks = []
    for copies in (2, 12):
        ann_file, img_dir = make_copied_sample(str(tmp_path / str(copies)), copies)
        tracemalloc.start()
        try:
            build_deid_dataset(ann_file=ann_file, wholebody_ann=ann_file, img_dir=img_dir,
                               out_dir=str(tmp_path / f'out{copies}'), strengths=(8, 16),
                               face_sources=('wholebody', 'coco_keypoints'), progress=False)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < peaks[0] + 6e6, f'peak {peaks[0] / 1e6:.1f} MB -> {peaks[1] / 1e6:.1f} MB'
