"""The builder on the real COCO sample: the output contract, the pixels, and the annotations."""
import hashlib
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rdid_mm.deid import build_deid_dataset

from tests.deid.reference import pixelate_reference


def read_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert('RGB'))


def tree_digest(root, skip=('.deid_state', )):
    """``{relative path: sha256}`` of every file under ``root``."""
    digest = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digest[osp.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return digest


def expected_box(face_box, margin, width, height):
    """The outward-rounded, clipped box (x, y, w, h) the builder should pixelate."""
    x, y, w, h = face_box
    x1, y1 = math.floor(x - margin * w), math.floor(y - margin * h)
    x2, y2 = math.ceil(x + w + margin * w), math.ceil(y + h + margin * h)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
    return [x1, y1, x2 - x1, y2 - y1]


def check_mosaics(out_dir, img_dir, faces, strengths):
    """Outside the boxes the mosaic equals the original; inside, the independent formula."""
    for file_name, boxes in faces.items():
        original = read_rgb(osp.join(img_dir, file_name))
        outside = np.ones(original.shape[:2], bool)
        for x, y, w, h, _, _ in boxes:
            outside[y:y + h, x:x + w] = False
        for strength in strengths:
            stem = osp.splitext(file_name)[0]
            mosaic = read_rgb(osp.join(out_dir, 'mosaic', f's{strength}', stem + '.png'))
            assert mosaic.shape == original.shape
            np.testing.assert_array_equal(mosaic[outside], original[outside])
            for x, y, w, h, _, _ in boxes:
                np.testing.assert_array_equal(
                    mosaic[y:y + h, x:x + w],
                    pixelate_reference(original[y:y + h, x:x + w], strength),
                    err_msg=f'{file_name} box {[x, y, w, h]} at strength {strength}')


@pytest.fixture(scope='module')
def sample_outputs(deid_sample):
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    with open(osp.join(deid_sample, 'summary.json')) as f:
        summary = json.load(f)
    return deid_sample, faces, summary


def test_layout(sample_outputs):
    out_dir, faces, summary = sample_outputs
    names = sorted(faces)
    assert len(names) == 4
    assert sorted(os.listdir(osp.join(out_dir, 'gt'))) == names
    for strength in (8, 16):
        assert sorted(os.listdir(osp.join(out_dir, 'mosaic', f's{strength}'))) == [
            osp.splitext(n)[0] + '.png' for n in names]
    assert osp.isfile(osp.join(out_dir, 'annotations', 'person_keypoints.json'))
    assert summary['images']['done'] == 4 and summary['images']['skipped'] == 0


def test_gt_is_byte_identical(sample_outputs, sample_img_dir):
    out_dir, faces, _ = sample_outputs
    for file_name in faces:
        with open(osp.join(out_dir, 'gt', file_name), 'rb') as a, \
                open(osp.join(sample_img_dir, file_name), 'rb') as b:
            assert a.read() == b.read()


def test_wholebody_boxes_equal_the_json_after_margin(sample_outputs, valid_face_boxes,
                                                    sample_images):
    _, faces, summary = sample_outputs
    margin = summary['settings']['margin']
    for file_name, boxes in faces.items():
        info = sample_images[file_name][0]
        expected = sorted(
            expected_box((x1, y1, x2 - x1, y2 - y1), margin, info['width'], info['height'])
            for name, _, (x1, y1, x2, y2) in valid_face_boxes if name == file_name)
        assert sorted(b[:4] for b in boxes) == expected
        assert all(b[4:] == [1.0, 'wholebody'] for b in boxes)


def test_pixels_outside_equal_original_inside_equal_formula(sample_outputs, sample_img_dir):
    out_dir, faces, _ = sample_outputs
    check_mosaics(out_dir, sample_img_dir, faces, (8, 16))


def test_missed_face_audit_lists_visible_faces_without_a_box(sample_outputs, wholebody_json):
    _, faces, summary = sample_outputs
    audit = summary['missed_face_audit']
    assert audit['available']
    # persons with a visible nose or eye, no valid WholeBody face box, outside every box
    expected = set()
    for ann in wholebody_json['annotations']:
        visible = [ann['keypoints'][3 * k:3 * k + 2] for k in range(3)
                   if ann['keypoints'][3 * k + 2] == 2]
        if visible and not ann.get('face_valid'):
            expected.add(ann['id'])
    assert expected, 'the sample has persons whose face has no WholeBody box'
    assert {m['annotation_id'] for m in audit['missed_faces']} == expected
    assert audit['missed'] == len(expected)
    assert audit['persons_checked'] == len(expected) + 4


def test_person_subset_evaluates_with_pycocotools(sample_outputs, sample_ann_file):
    out_dir, _, summary = sample_outputs
    subset_file = osp.join(out_dir, 'annotations', 'person_keypoints.json')
    with open(subset_file) as f, open(sample_ann_file) as g:
        subset, original = json.load(f), json.load(g)
    assert [i['id'] for i in subset['images']] == [i['id'] for i in original['images']]
    assert [a['id'] for a in subset['annotations']] == [a['id'] for a in original['annotations']]
    assert [i['file_name'] for i in subset['images']] == [
        i['file_name'] for i in original['images']]
    assert summary['annotations'] == dict(file='annotations/person_keypoints.json', images=4,
                                          annotations=14)
    gt = COCO(subset_file)
    detections = [dict(image_id=a['image_id'], category_id=1, bbox=a['bbox'], score=1.0,
                       keypoints=a['keypoints']) for a in subset['annotations']]
    for iou_type, minimum in (('bbox', 1.0), ('keypoints', 0.85)):
        evaluator = COCOeval(gt, gt.loadRes(detections), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        assert evaluator.stats[0] >= minimum


def test_rerun_resumes_without_rewriting(sample_outputs, sample_ann_file,
                                         sample_wholebody_ann_file, sample_img_dir):
    out_dir, _, _ = sample_outputs
    before = tree_digest(out_dir)
    mtimes = {p: os.stat(osp.join(out_dir, p)).st_mtime_ns for p in before if 'mosaic' in p}
    summary = build_deid_dataset(
        ann_file=sample_ann_file, img_dir=sample_img_dir, out_dir=out_dir, strengths=(8, 16),
        face_sources=('wholebody', ), wholebody_ann=sample_wholebody_ann_file, workers=0)
    assert summary['timing']['images_processed'] == 0
    assert summary['timing']['images_resumed'] == 4
    assert tree_digest(out_dir) == before
    assert mtimes == {p: os.stat(osp.join(out_dir, p)).st_mtime_ns for p in mtimes}
