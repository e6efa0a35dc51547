"""Transforms where mmagic's do not fit: a face-aware paired crop and a pair size check."""
from .check_paired_images import CheckPairedImages
from .face_aware_crop import FaceAwareCrop
from .load_rgb_image import LoadRGBImage

__all__ = ['CheckPairedImages', 'FaceAwareCrop', 'LoadRGBImage']
