"""Registered face embedders (``EMBEDDERS``): ``dlib`` (ResNet, 5-point alignment) and ``onnx``
(any ONNX face-recognition file by path, e.g. ArcFace, aligned with CenterFace's landmarks)."""
from .base import BaseEmbedder, build_embedder
from .dlib_resnet import DlibResNetEmbedder
from .onnx_embedder import OnnxEmbedder

__all__ = ['BaseEmbedder', 'DlibResNetEmbedder', 'OnnxEmbedder', 'build_embedder']
