"""An mmpose config as the evaluation pose model: random RTMPose-t weights, the real sample."""
import json

import numpy as np
import pytest
import torch

from rdid_mm.evaluation.coco_scoring import load_coco, score_detections
from rdid_mm.evaluation.detectors import build_detector, describe_detector
from rdid_mm.evaluation.detectors.mmpose_estimator import instance_score
from rdid_mm.evaluation.detectors.scoring import detect_files
from rdid_mm.layout import DeidLayout
from rdid_mm.utils.io import read_rgb

from .conftest import RTMDET_SMOKE, RTMPOSE_SMOKE


@pytest.fixture(scope='module')
def pose_gt_boxes(sample_ann_file):
    return build_detector(dict(config=RTMPOSE_SMOKE, weights='none'), ann_file=sample_ann_file)


def _gt_boxes(ann_file):
    with open(ann_file) as f:
        anns = json.load(f)['annotations']
    boxes = {}
    for ann in anns:
        boxes.setdefault(ann['image_id'], []).append(ann['bbox'])
    return boxes


def test_top_down_on_gt_boxes_one_person_per_annotation(pose_gt_boxes, sample_ann_file,
                                                        sample_images):
    img_ids, paths = sample_images
    assert pose_gt_boxes.top_down and pose_gt_boxes.needs_img_ids
    records = pose_gt_boxes.detect([read_rgb(p) for p in paths], img_ids)
    gt = _gt_boxes(sample_ann_file)
    for img_id, image_records in zip(img_ids, records):
        # the record's box is the annotation's box; the keypoints lie around it (the crop)
        np.testing.assert_allclose([r['bbox'] for r in image_records], gt[img_id], atol=2e-3)
        for rec in image_records:
            kpts = np.array(rec['keypoints']).reshape(17, 3)
            x, y, w, h = rec['bbox']
            margin = 0.5 * max(w, h)
            assert (kpts[:, 0] >= x - margin).all() and (kpts[:, 0] <= x + w + margin).all()
            assert (kpts[:, 1] >= y - margin).all() and (kpts[:, 1] <= y + h + margin).all()
            # mmpose's bbox_keypoint score: box score 1 x mean keypoint score above 0.2
            # (keypoint scores are rounded to 0.001 in the records)
            assert rec['score'] == pytest.approx(instance_score(1.0, kpts[:, 2], 0.2), rel=1e-4)
    assert sum(len(r) for r in records) == 14


def test_keypoints_equal_mmposes_own_inference_on_the_file(pose_gt_boxes, sample_ann_file,
                                                           sample_images):
    from mmpose.apis import inference_topdown
    img_ids, paths = sample_images
    (records, ) = pose_gt_boxes.detect([read_rgb(paths[3])], [img_ids[3]])
    boxes = np.array(_gt_boxes(sample_ann_file)[img_ids[3]], dtype=np.float32)
    direct = inference_topdown(pose_gt_boxes.model, paths[3], boxes, bbox_format='xywh')
    expected = np.concatenate([s.pred_instances.keypoints[0] for s in direct])
    ours = np.concatenate([np.array(r['keypoints']).reshape(17, 3)[:, :2] for r in records])
    np.testing.assert_allclose(ours, expected, atol=2e-3)


def test_scores_the_gt_and_mosaic_rows(pose_gt_boxes, deid_sample):
    """GT and Mosaic s8 rows: GT boxes give box AP 1 exactly; keypoint AP is defined, and the
    mosaic (face pixels changed) changes the keypoints."""
    layout = DeidLayout(deid_sample)
    detector = build_detector(dict(config=RTMPOSE_SMOKE, weights='none'),
                              ann_file=layout.ann_file)
    samples = layout.samples(8)
    img_ids = [s['img_id'] for s in samples]
    coco = load_coco(layout.ann_file)
    rows = {}
    for key in ('gt_path', 'mosaic_path'):
        detections = detect_files(detector, img_ids, [s[key] for s in samples])
        stats = score_detections(coco, detections, ('bbox', 'keypoints'), img_ids)
        assert stats['bbox_AP'] == pytest.approx(1.0)
        assert 0.0 <= stats['kpt_AP'] <= 1.0
        rows[key] = detections
    kpts = {k: np.array([d['keypoints'] for d in v]) for k, v in rows.items()}
    assert kpts['gt_path'].shape == kpts['mosaic_path'].shape == (14, 51)
    assert not np.allclose(kpts['gt_path'], kpts['mosaic_path'])


def test_top_down_on_a_named_detectors_boxes(sample_images):
    """Boxes from an mmdet detector: the records' boxes are the detector's person boxes above the
    threshold, and the footer says where the boxes came from."""
    img_ids, paths = sample_images
    boxes_cfg = dict(config=RTMDET_SMOKE, weights='none')
    cfg = dict(config=RTMPOSE_SMOKE, weights='none', boxes=boxes_cfg, box_score_thr=0.0,
               max_boxes=3)
    pose = build_detector(cfg)
    assert not pose.needs_img_ids
    image = read_rgb(paths[0])
    (records, ) = pose.detect([image], [img_ids[0]])
    (boxes, ) = pose.box_detector.detect([image], [img_ids[0]])
    best = sorted(boxes, key=lambda r: -r['score'])[:3]
    np.testing.assert_allclose([r['bbox'] for r in records], [b['bbox'] for b in best],
                               atol=2e-3)
    line = describe_detector(cfg)
    assert 'top-down person boxes from mmdet config' in line and 'rtmdet_tiny_person' in line


def test_footer_line_names_the_box_source():
    line = describe_detector(dict(config=RTMPOSE_SMOKE, weights='none'))
    assert line.startswith('Detector: mmpose config ') and 'random weights (smoke test)' in line
    assert 'top-down on the ground-truth person boxes (box AP is 1 by construction)' in line


def test_gt_boxes_need_the_annotation_file_and_ids(sample_ann_file):
    with pytest.raises(ValueError, match="boxes='gt' needs the annotation file"):
        build_detector(dict(config=RTMPOSE_SMOKE, weights='none'))
    pose = build_detector(dict(config=RTMPOSE_SMOKE, weights='none'), ann_file=sample_ann_file)
    with pytest.raises(ValueError, match='pass the images\' ids'):
        pose([torch.zeros((3, 8, 8))])
