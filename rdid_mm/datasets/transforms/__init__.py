"""Transforms where mmagic's do not fit: a face-aware paired crop, a pair size check, and
random-strength re-pixelation for strength-robust training."""
from .check_paired_images import CheckPairedImages
from .face_aware_crop import FaceAwareCrop
from .random_pixelate import RandomPixelate

__all__ = ['CheckPairedImages', 'FaceAwareCrop', 'RandomPixelate']
