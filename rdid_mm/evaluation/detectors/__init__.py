"""Evaluation detectors from any library behind one interface (see ``base.py``):
torchvision's Keypoint R-CNN, mmdet detection configs, mmpose body-keypoint configs.

Nothing here imports mmdet or mmpose until a detector of theirs is built.
"""
from .build import (
                    build_detector,
                    describe_detector,
                    detector_identity,
                    detector_iou_types,
                    detector_scope,
)

__all__ = ['build_detector', 'describe_detector', 'detector_identity', 'detector_iou_types',
           'detector_scope']
