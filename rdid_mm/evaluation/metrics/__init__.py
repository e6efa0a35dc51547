"""Registered metrics: COCO AP of a Keypoint R-CNN, and face-region PSNR/SSIM."""
from .face_quality_metric import FaceRegionQualityMetric
from .keypoint_rcnn_metric import KeypointRCNNMetric

__all__ = ['FaceRegionQualityMetric', 'KeypointRCNNMetric']
