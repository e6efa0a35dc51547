"""De-identification: face boxes from pluggable sources, pixelation, the dataset builder."""
from . import face_sources
from .boxes import FaceBox, prepare_face_boxes
from .builder import build_deid_dataset
from .pixelate import Pixelate, pixelate_boxes, pixelate_region

__all__ = [
    'FaceBox', 'Pixelate', 'build_deid_dataset', 'face_sources', 'pixelate_boxes',
    'pixelate_region', 'prepare_face_boxes'
]
