"""Several face sources at once: their detections together, each tagged with its source.

Duplicates are merged afterwards, with the margin applied, by
:func:`rdid_mm.deid.face_boxes.prepare_face_boxes` (overlapping boxes become their enclosing box).
"""
from typing import List, Optional, Sequence, Union

import numpy as np

from rdid_mm.registry import FACE_SOURCES

from ..face_boxes import Detection
from .base import BaseFaceSource


def build_face_source(cfg: Union[str, dict, BaseFaceSource]) -> BaseFaceSource:
    """A face source from a registered name (``'centerface'``), a config dict, or an instance."""
    if isinstance(cfg, BaseFaceSource):
        return cfg
    if isinstance(cfg, str):
        cfg = dict(type=cfg)
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'a face source is a registered name or a dict with "type", got {cfg!r}')
    if FACE_SOURCES.get(cfg['type']) is None:
        raise KeyError(f'unknown face source {cfg["type"]!r}; registered: '
                       f'{sorted(FACE_SOURCES.module_dict)}')
    return FACE_SOURCES.build(cfg)


@FACE_SOURCES.register_module(name='union')
class FaceSourceUnion(BaseFaceSource):
    """The detections of every source in ``sources`` (names, config dicts or instances)."""
    name = 'union'

    def __init__(self, sources: Sequence[Union[str, dict, BaseFaceSource]]):
        if not sources:
            raise ValueError('a union of face sources needs at least one source')
        self.sources = [build_face_source(cfg) for cfg in sources]
        names = [source.name for source in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f'face sources listed twice: {names}')

    @property
    def needs_annotations(self) -> bool:
        return any(source.needs_annotations for source in self.sources)

    @property
    def source_names(self) -> List[str]:
        return [source.name for source in self.sources]

    def detect(self, image: np.ndarray, annotations=None) -> np.ndarray:
        detections = self(image, annotations)
        return np.asarray([d[:5] for d in detections], dtype=np.float64).reshape(-1, 5)

    def __call__(self, image: np.ndarray,
                 annotations: Optional[Sequence[dict]] = None) -> List[Detection]:
        detections = []
        for source in self.sources:
            detections.extend(source(image, annotations))
        return detections
