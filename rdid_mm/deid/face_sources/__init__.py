"""Registered face sources (``FACE_SOURCES``): ``centerface``, ``dsfd``, ``coco_keypoints``,
``wholebody``, and ``union`` of several."""
from .base import BaseFaceSource
from .centerface import CenterFaceSource
from .coco_keypoints import CocoKeypointsSource
from .dsfd import DSFDSource
from .union import FaceSourceUnion, build_face_source
from .wholebody import WholeBodySource

__all__ = [
    'BaseFaceSource', 'CenterFaceSource', 'CocoKeypointsSource', 'DSFDSource', 'FaceSourceUnion',
    'WholeBodySource', 'build_face_source'
]
