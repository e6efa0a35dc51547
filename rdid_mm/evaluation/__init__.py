"""Evaluation: COCO scoring, the Keypoint R-CNN metric and hooks, Table 1, sweep, grid, benchmark.

Importing this package registers ``KeypointRCNNMetric``, ``FaceRegionQualityMetric`` and
``ReferenceRowsHook``; torchvision's detection models and matplotlib load only when used.
"""
from .benchmark import benchmark_eval, format_benchmark
from .coco_scoring import evaluate_coco_results, score_detections
from .hooks import ReferenceRowsHook
from .keypoint_rcnn import build_keypoint_rcnn
from .metrics import FaceRegionQualityMetric, KeypointRCNNMetric
from .qualitative_grid import make_qualitative_grid
from .reports import make_strength_sweep, make_table1

__all__ = [
    'evaluate_coco_results', 'score_detections', 'build_keypoint_rcnn', 'KeypointRCNNMetric',
    'FaceRegionQualityMetric', 'ReferenceRowsHook', 'make_table1', 'make_strength_sweep',
    'make_qualitative_grid', 'benchmark_eval', 'format_benchmark'
]
