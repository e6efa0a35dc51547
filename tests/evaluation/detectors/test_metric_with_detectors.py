"""DetectorAPMetric (the validation metric) built on mmdet / mmpose settings."""
import pytest

from rdid_mm.evaluation.coco_scoring import load_coco, score_detections
from rdid_mm.evaluation.detectors import build_detector
from rdid_mm.evaluation.detectors.scoring import detect_files
from rdid_mm.evaluation.metrics.detector_ap_metric import DetectorAPMetric
from rdid_mm.layout import DeidLayout

from .conftest import RTMDET_SMOKE, RTMPOSE_SMOKE


def _metric_run(layout, settings):
    metric = DetectorAPMetric(layout.ann_file, pred_key='img_gt', detector=settings,
                              device='cpu', batch_size=2)
    samples = layout.samples(8)
    metric.process(None, samples[:3])
    metric.process(None, samples[3:])
    detections = [d for r in metric.results for d in r['detections']]
    return metric, samples, detections, metric.compute_metrics(metric.results)


def test_mmdet_settings_score_boxes_only(deid_sample):
    layout = DeidLayout(deid_sample)
    settings = dict(config=RTMDET_SMOKE, weights='none')
    metric, samples, detections, metrics = _metric_run(layout, settings)
    assert metric.iou_types == ('bbox', )
    assert 'bbox_AP' in metrics and not any(k.startswith('kpt_') for k in metrics)
    # the same records as the wrapper run on the files directly, and the same COCOeval numbers
    direct = detect_files(build_detector(settings), [s['img_id'] for s in samples],
                          [s['gt_path'] for s in samples])
    assert detections == direct
    coco = load_coco(layout.ann_file)
    assert metrics['bbox_AP'] == score_detections(coco, direct, ('bbox', ))['bbox_AP']


def test_top_down_pose_settings_get_the_image_ids_for_gt_boxes(deid_sample):
    layout = DeidLayout(deid_sample)
    _, samples, detections, metrics = _metric_run(layout, dict(config=RTMPOSE_SMOKE,
                                                               weights='none'))
    assert metrics['bbox_AP'] == pytest.approx(1.0)  # the GT boxes, by construction
    assert 0.0 <= metrics['kpt_AP'] <= 1.0
    assert {d['image_id'] for d in detections} <= {s['img_id'] for s in samples}
    assert all(len(d['keypoints']) == 51 for d in detections)
