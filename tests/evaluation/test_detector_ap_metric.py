"""DetectorAPMetric through its real path: files or model outputs -> detector -> COCOeval."""
import json
import math
import os

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from rdid_mm.evaluation import DetectorAPMetric, evaluate_coco_results
from rdid_mm.evaluation.coco_scoring import BBOX_STAT_NAMES, KPT_STAT_NAMES
from rdid_mm.registry import METRICS

from .detector_double import SMALL_DETECTOR, read_pillow

ALL_KEYS = [f'coco/bbox_{n}' for n in BBOX_STAT_NAMES] + [f'coco/kpt_{n}' for n in KPT_STAT_NAMES]


def _samples(sample_ann_file, sample_gt_files):
    with open(sample_ann_file) as f:
        images = json.load(f)['images']
    return [dict(img_id=im['id'], ori_shape=(im['height'], im['width']),
                 gt_path=sample_gt_files[im['id']]) for im in images]


def _run(metric, samples, batch=2):
    evaluator = Evaluator(metric)
    for start in range(0, len(samples), batch):
        evaluator.process(samples[start:start + batch])
    return evaluator.evaluate(len(samples))


def test_ground_truth_double_through_the_file_path_scores_perfect_boxes(
        sample_ann_file, sample_gt_files, gt_double, pycocotools_gt_stats):
    gt_double.seen.clear()
    metric = DetectorAPMetric(sample_ann_file, pred_key='img_gt', detector=gt_double)
    metrics = _run(metric, _samples(sample_ann_file, sample_gt_files))
    assert list(metrics) == ALL_KEYS
    assert metrics['coco/bbox_AP'] == pytest.approx(1.0)
    np.testing.assert_allclose([metrics[k] for k in ALL_KEYS if 'kpt' in k],
                               pycocotools_gt_stats['keypoints'], atol=1e-3)
    # the double saw every original image once, full size (its own transform resized them)
    sizes = {i: tuple(read_pillow(p).shape) for i, p in sample_gt_files.items()}
    assert sorted(gt_double.seen) == sorted((i, 'gt', sizes[i]) for i in sizes)
    assert set(metric.timer.seconds) == {'decode', 'preprocess', 'forward', 'scoring'}


def test_model_outputs_are_scored_and_written(tmp_path, sample_ann_file, sample_gt_files,
                                              gt_double):
    """fake_gt as the model returns it: float RGB 0..255, 3 x H x W, full size."""
    samples = _samples(sample_ann_file, sample_gt_files)
    for sample in samples:
        sample['fake_gt'] = read_pillow(sample['gt_path']) * 255.0
    out_dir = tmp_path / 'out'
    metric = METRICS.build(dict(type='DetectorAPMetric', ann_file=sample_ann_file,
                                detector=gt_double, out_dir=str(out_dir)))
    metrics = _run(metric, samples)
    assert metrics['coco/bbox_AP'] == pytest.approx(1.0)
    written = sorted(os.listdir(out_dir / 'images'))
    assert written == sorted(os.path.basename(p).replace('.jpg', '.png')
                             for p in sample_gt_files.values())
    restored = read_pillow(str(out_dir / 'images' / '000000000785.png'))
    torch.testing.assert_close(restored, read_pillow(sample_gt_files[785]), atol=1 / 255, rtol=0)
    assert not [f for f in os.listdir(out_dir) if '.tmp' in f]
    rescored = evaluate_coco_results(sample_ann_file, str(out_dir / 'detections.json'))
    assert rescored == pytest.approx(metrics, nan_ok=True)


def test_swapped_channels_fail_the_double(sample_ann_file, sample_gt_files, gt_double):
    samples = _samples(sample_ann_file, sample_gt_files)[:1]
    samples[0]['fake_gt'] = read_pillow(samples[0]['gt_path']).flip(0) * 255.0
    metric = DetectorAPMetric(sample_ann_file, detector=gt_double)
    with pytest.raises(AssertionError, match='channels swapped'):
        metric.process(None, samples)


def test_image_missing_from_json_is_named(sample_ann_file, sample_gt_files, gt_double):
    sample = dict(img_id=999, gt_path=sample_gt_files[785])
    metric = DetectorAPMetric(sample_ann_file, pred_key='img_gt', detector=gt_double)
    with pytest.raises(ValueError, match=r'image id 999 \(.*000000000785.jpg\) is not in the '
                       r'annotation file .*test_coco.json'):
        metric.process(None, [sample])


def test_output_of_the_wrong_size_is_refused(sample_ann_file, gt_double):
    sample = dict(img_id=785, ori_shape=(425, 640), fake_gt=torch.zeros(3, 256, 256))
    metric = DetectorAPMetric(sample_ann_file, detector=gt_double)
    with pytest.raises(ValueError, match=r'fake_gt is \(256, 256\) \(H, W\) but .* says '
                       r'\(425, 640\)'):
        metric.process(None, [sample])


def test_missing_prediction_key_is_named(sample_ann_file, gt_double):
    metric = DetectorAPMetric(sample_ann_file, pred_key='img_mosaic', detector=gt_double)
    with pytest.raises(KeyError, match='no mosaic_path or img_mosaic_path'):
        metric.process(None, [dict(img_id=785)])


def test_real_keypoint_rcnn_path_makes_a_well_formed_table(sample_ann_file, sample_gt_files):
    """images -> Keypoint R-CNN (weights=None, small resize) -> COCO results -> AP."""
    metric = DetectorAPMetric(sample_ann_file, pred_key='img_gt', detector=SMALL_DETECTOR,
                              device='cpu')
    samples = _samples(sample_ann_file, sample_gt_files)
    evaluator = Evaluator(metric)
    evaluator.process(samples[:2])
    evaluator.process(samples[2:])
    detections = [d for r in metric.results for d in r['detections']]
    metrics = evaluator.evaluate(len(samples))
    assert list(metrics) == ALL_KEYS
    assert all(math.isnan(v) or 0.0 <= v <= 1.0 for v in metrics.values())
    assert not math.isnan(metrics['coco/bbox_AP']) and not math.isnan(metrics['coco/kpt_AP'])
    for det in detections:
        assert len(det['bbox']) == 4 and len(det['keypoints']) == 51 and det['category_id'] == 1


def test_the_old_name_builds_the_same_metric(sample_ann_file, gt_double):
    """Configs written before the rename (``type='KeypointRCNNMetric'``) still build it."""
    for name in ('KeypointRCNNMetric', 'rdid_mm.KeypointRCNNMetric', 'DetectorAPMetric'):
        metric = METRICS.build(dict(type=name, ann_file=sample_ann_file, detector=gt_double))
        assert type(metric) is DetectorAPMetric, name
