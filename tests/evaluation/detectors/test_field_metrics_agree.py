"""mmdet's and mmpose's ``CocoMetric`` score the same detections as ``evaluate_coco_results``.

Two implementations agreeing is the check: the sample's ground truth, perturbed (jittered boxes and
keypoints, random scores, a missed person, false positives), is scored by rdid_mm's COCOeval path
and by the field's own metrics fed the same detections as model outputs (``pred_instances``).
mmdet rounds what it returns to 3 decimals, so its COCOeval object is recorded to compare its full
precision; mmpose returns COCOeval's stats as they are.
"""
import json
import math

import numpy as np
import pytest
import torch

from rdid_mm.evaluation import evaluate_coco_results
from rdid_mm.evaluation.coco_scoring import BBOX_STAT_NAMES, KPT_STAT_NAMES

TOL = 1e-6


def perturbed_detections(ann_file, seed=0, false_positives=2):
    """The annotations as detections: jittered, randomly scored, one person missed, extra boxes."""
    rng = np.random.default_rng(seed)
    with open(ann_file) as f:
        coco = json.load(f)
    sizes = {im['id']: (im['width'], im['height']) for im in coco['images']}
    anns = [a for a in coco['annotations'] if not a.get('iscrowd')]
    dets = []
    for index, ann in enumerate(anns):
        if index == 3:  # a missed person
            continue
        x, y, w, h = ann['bbox']
        box = [x + rng.normal(0, 0.06 * w), y + rng.normal(0, 0.06 * h),
               w * rng.uniform(0.85, 1.15), h * rng.uniform(0.85, 1.15)]
        det = dict(image_id=ann['image_id'], category_id=1, bbox=box,
                   score=float(rng.uniform(0.05, 1.0)))
        if ann.get('num_keypoints', 0) > 0:
            kpts = np.array(ann['keypoints'], dtype=float).reshape(-1, 3)
            scale = math.sqrt(ann['area'])
            kpts[:, :2] += rng.normal(0, 0.04 * scale, size=(len(kpts), 2))
            kpts[:, 2] = 1
            det['keypoints'] = kpts.flatten().tolist()
        dets.append(det)
    for img_id, (width, height) in sizes.items():
        for _ in range(false_positives):
            w, h = rng.uniform(20, width / 3), rng.uniform(40, height / 2)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            kpts = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17),
                             np.ones(17)], axis=1)
            dets.append(dict(image_id=img_id, category_id=1, bbox=[x, y, w, h],
                             keypoints=kpts.flatten().tolist(),
                             score=float(rng.uniform(0.01, 0.6))))
    return dets


@pytest.fixture(scope='module')
def detections(sample_ann_file):
    return perturbed_detections(sample_ann_file)


@pytest.fixture(scope='module')
def ours(tmp_path_factory, sample_ann_file, detections):
    path = tmp_path_factory.mktemp('crosscheck') / 'detections.json'
    path.write_text(json.dumps(detections))
    stats = evaluate_coco_results(sample_ann_file, str(path))
    # the perturbation leaves room on both sides: neither perfect nor zero
    assert 0.3 < stats['coco/bbox_AP'] < 0.95 and 0.2 < stats['coco/kpt_AP'] < 0.9
    return stats


def _mmdet_samples(detections, coco):
    """Detections as mmdet model outputs, one per image: xyxy boxes, scores, label 0 (person)."""
    samples = []
    for img_id, info in sorted(coco['images'].items()):
        own = [d for d in detections if d['image_id'] == img_id]
        boxes = torch.tensor([[d['bbox'][0], d['bbox'][1], d['bbox'][0] + d['bbox'][2],
                               d['bbox'][1] + d['bbox'][3]] for d in own], dtype=torch.float64)
        samples.append(dict(img_id=img_id, ori_shape=(info['height'], info['width']),
                            pred_instances=dict(
                                bboxes=boxes.reshape(-1, 4),
                                scores=torch.tensor([d['score'] for d in own],
                                                    dtype=torch.float64),
                                labels=torch.zeros(len(own), dtype=torch.long))))
    return samples


def _mmpose_samples(detections):
    """Keypoint detections as mmpose top-down outputs: one instance per sample, its score as the
    person box score (``score_mode='bbox'`` keeps it), no box (COCOeval takes the keypoint area)."""
    samples = []
    for index, det in enumerate(d for d in detections if 'keypoints' in d):
        kpts = np.array(det['keypoints'], dtype=float).reshape(1, -1, 3)
        samples.append(dict(
            id=index, img_id=det['image_id'], category_id=det['category_id'],
            pred_instances=dict(keypoints=kpts[..., :2], keypoint_scores=kpts[..., 2]),
            gt_instances=dict(bbox_scores=np.array([det['score']]))))
    return samples


def _coco_index(ann_file):
    with open(ann_file) as f:
        data = json.load(f)
    return dict(images={im['id']: im for im in data['images']})


def test_mmdet_coco_metric_bbox_agrees(monkeypatch, sample_ann_file, detections, ours):
    from mmdet.evaluation.metrics import coco_metric
    recorded = []

    class RecordedCOCOeval(coco_metric.COCOeval):
        def summarize(self):
            super().summarize()
            recorded.append(self)

    monkeypatch.setattr(coco_metric, 'COCOeval', RecordedCOCOeval)
    metric = coco_metric.CocoMetric(ann_file=sample_ann_file, metric='bbox')
    metric.dataset_meta = dict(classes=('person', ))
    metric.process({}, _mmdet_samples(detections, _coco_index(sample_ann_file)))
    returned = metric.compute_metrics(metric.results)

    (coco_eval, ) = recorded
    names = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
    # mmdet returns AP..APl rounded to 3 decimals, under its own names
    for name, ours_name in zip(names, BBOX_STAT_NAMES):
        value = ours[f'coco/bbox_{ours_name}']
        expected = -1.0 if math.isnan(value) else round(value, 3)
        assert returned[f'bbox_{name}'] == pytest.approx(expected, abs=1e-12), name
    # full precision: AP..APl are stats[0:6]; mmdet's maxDets are (100, 300, 1000), so its
    # AR@100 (stats[6]) is COCO's AR100 and its ARs/m/l are at 1000 detections per image
    # (equal to COCO's at 100 here: no image has more than 100 detections)
    full = dict(zip(BBOX_STAT_NAMES[:6], coco_eval.stats[:6]))
    full.update(AR100=coco_eval.stats[6], ARs=coco_eval.stats[9], ARm=coco_eval.stats[10],
                ARl=coco_eval.stats[11])
    assert len(full) == 10
    for name, value in full.items():
        mine = ours[f'coco/bbox_{name}']
        if math.isnan(mine):
            assert value == -1, name
        else:
            assert abs(value - mine) <= TOL, (name, value, mine)


def test_mmpose_coco_metric_keypoints_agrees(sample_ann_file, detections, ours):
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.evaluation.metrics import CocoMetric

    metric = CocoMetric(ann_file=sample_ann_file, score_mode='bbox', nms_mode='none')
    metric.dataset_meta = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
    metric.process({}, _mmpose_samples(detections))
    stats = metric.compute_metrics(metric.results)

    names = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
             'AR (L)')
    assert list(stats) == list(names)
    for name, ours_name in zip(names, KPT_STAT_NAMES):
        assert abs(stats[name] - ours[f'coco/kpt_{ours_name}']) <= TOL, (name, stats[name])


def test_mmpose_default_rescoring_and_nms_change_the_numbers(sample_ann_file, detections, ours):
    """Why Table 1 does not use mmpose's defaults: OKS-NMS and keypoint rescoring are not the
    protocol (raw detections, as the detector scores them)."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.evaluation.metrics import CocoMetric

    metric = CocoMetric(ann_file=sample_ann_file, score_mode='keypoint', nms_mode='oks_nms')
    metric.dataset_meta = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
    samples = _mmpose_samples(detections)
    rng = np.random.default_rng(1)
    for sample in samples:  # keypoint confidences that disagree with the detection score
        scores = sample['pred_instances']['keypoint_scores']
        sample['pred_instances']['keypoint_scores'] = rng.uniform(0, 1, scores.shape)
    metric.process({}, samples)
    stats = metric.compute_metrics(metric.results)
    assert abs(stats['AP'] - ours['coco/kpt_AP']) > 1e-3
