"""COCO-WholeBody face boxes (``face_box`` with ``face_valid``) of annotated persons.

The builder attaches ``face_box``/``face_valid`` from ``--wholebody-ann`` to the COCO annotations by
annotation id; a COCO-WholeBody json given as the annotation file carries them already.
"""
from typing import Optional, Sequence

import numpy as np

from rdid_mm.registry import FACE_SOURCES

from .base import BaseFaceSource


def wholebody_face_box(annotation: dict):
    """The valid ``face_box`` of an annotation as ``(x1, y1, x2, y2)``, or None."""
    box = annotation.get('face_box')
    if not annotation.get('face_valid', False) or not box or len(box) < 4:
        return None
    x, y, w, h = (float(v) for v in box[:4])
    return (x, y, x + w, y + h)


@FACE_SOURCES.register_module(name='wholebody')
class WholeBodySource(BaseFaceSource):
    """Annotated COCO-WholeBody face boxes (score 1)."""
    name = 'wholebody'
    needs_annotations = True

    def detect(self, image: np.ndarray, annotations: Optional[Sequence[dict]] = None) -> np.ndarray:
        boxes = [box + (1.0, ) for box in map(wholebody_face_box, annotations or ()) if box]
        return np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
