"""De-identification: face boxes from pluggable sources, pixelation, the dataset builder.

The builder (and its worker pool, progress bar and summary) loads only when
``build_deid_dataset`` is first used, so registering modules does not import it.
"""
from .face_boxes import FaceBox, prepare_face_boxes
from .pixelate import Pixelate, pixelate_boxes, pixelate_region

__all__ = [
    'FaceBox', 'Pixelate', 'build_deid_dataset', 'face_sources', 'pixelate_boxes',
    'pixelate_region', 'prepare_face_boxes'
]


def __getattr__(name):
    if name == 'build_deid_dataset':
        from .builder import build_deid_dataset
        return build_deid_dataset
    if name == 'face_sources':
        import importlib
        return importlib.import_module('.face_sources', __name__)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
