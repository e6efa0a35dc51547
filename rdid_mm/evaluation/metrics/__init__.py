"""Registered metrics: COCO box and keypoint AP of a person detector on the restored images, and
face-region PSNR/SSIM."""
from .detector_ap_metric import DetectorAPMetric
from .face_quality_metric import FaceRegionQualityMetric

__all__ = ['FaceRegionQualityMetric', 'DetectorAPMetric']
