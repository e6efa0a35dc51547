"""Evaluation, and only evaluation: COCO scoring, the Keypoint R-CNN detector and metric,
face-region quality, the image bootstrap and the evaluation benchmark.

Importing this package registers ``KeypointRCNNMetric`` and ``FaceRegionQualityMetric``;
torchvision's detection models and the benchmark load only when used. Nothing here imports
``rdid_mm.apis`` or ``rdid_mm.deid``: the Table 1, sweep and grid orchestration, which runs
models, is in ``rdid_mm.apis``; the hooks are in ``rdid_mm.engine.hooks``.
"""
from .coco_scoring import evaluate_coco_results, score_detections
from .keypoint_rcnn import build_keypoint_rcnn
from .metrics import FaceRegionQualityMetric, KeypointRCNNMetric

__all__ = [
    'evaluate_coco_results', 'score_detections', 'build_keypoint_rcnn', 'KeypointRCNNMetric',
    'FaceRegionQualityMetric', 'benchmark_eval', 'format_benchmark'
]


def __getattr__(name):
    if name in ('benchmark_eval', 'format_benchmark'):
        from . import benchmark
        return getattr(benchmark, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
