"""Evaluation, and only evaluation: COCO scoring, the Keypoint R-CNN detector and metric,
face-region quality and the image bootstrap.

Importing this package registers ``DetectorAPMetric`` and ``FaceRegionQualityMetric``;
torchvision's detection models load only when used. Nothing here imports a package above it (the
Table 1, sweep and grid orchestration, which runs models, is above; the hooks are in
``rdid_mm.engine.hooks``).
"""
from .coco_scoring import evaluate_coco_results, score_detections
from .keypoint_rcnn import build_keypoint_rcnn
from .metrics import DetectorAPMetric, FaceRegionQualityMetric

__all__ = [
    'evaluate_coco_results', 'score_detections', 'build_keypoint_rcnn', 'DetectorAPMetric',
    'FaceRegionQualityMetric'
]
