"""Region-mode restoration: crop each box with context, restore the crops in batches, paste back.

Only pixels inside the boxes change; everything else is the input, bit for bit. Crops are padded
(edge replication) to a common size per batch so that crops of several boxes and images share one
generator call; the size is rounded up to ``size_multiple`` so that few distinct shapes occur.

The restore loop (:mod:`rdid_mm.restore.loop`, ``tools/restore.py``, Table 1's model rows) and the
models' own val/test steps in region mode (:func:`rdid_mm.models.restorers.restore_samples`) both
call :func:`restore_regions`, so they restore the same pixels.
"""
import math
from typing import Callable, List, Sequence, Tuple

import numpy as np

from rdid_mm.utils.boxes import box_to_slices

Restorer = Callable[[Sequence[np.ndarray]], List[np.ndarray]]
Box = Sequence[float]


def box_corners(box: Box, height: int, width: int) -> Tuple[int, int, int, int]:
    """Integer ``(x1, y1, x2, y2)`` of the pixels an ``[x, y, w, h]`` box covers, clipped
    (:func:`rdid_mm.utils.boxes.box_to_slices`; may be empty)."""
    rows, cols = box_to_slices(box, height, width)
    return cols.start, rows.start, cols.stop, rows.stop


def is_empty(corners: Tuple[int, int, int, int]) -> bool:
    return corners[2] <= corners[0] or corners[3] <= corners[1]


def context_window(pixels: Tuple[int, int, int, int], height: int, width: int,
                   context: float, min_context: int = 16) -> Tuple[int, int, int, int]:
    """The crop around a box: ``context`` times its size on each side (at least ``min_context``)."""
    x1, y1, x2, y2 = pixels
    mx = max(int(math.ceil(context * (x2 - x1))), min_context)
    my = max(int(math.ceil(context * (y2 - y1))), min_context)
    return max(x1 - mx, 0), max(y1 - my, 0), min(x2 + mx, width), min(y2 + my, height)


def _padded(crop: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    h, w = crop.shape[:2]
    return np.pad(crop, ((0, size[0] - h), (0, size[1] - w), (0, 0)), mode='edge')


def restore_regions(images: Sequence[np.ndarray], boxes: Sequence[Sequence[Box]],
                    restorer: Restorer, context: float = 0.5,
                    size_multiple: int = 32) -> List[np.ndarray]:
    """Restore the boxes of several images together; returns new arrays (inputs untouched).

    Args:
        images: ``H x W x 3`` uint8 RGB arrays.
        boxes: per image, ``[x, y, w, h, ...]`` boxes in pixels.
        restorer: see :func:`rdid_mm.models.restorers.model_restorer`.
        context: the context around each box, as a fraction of its size.
        size_multiple: crops are padded up to a multiple of this (shared batch shapes).
    """
    jobs = []
    for index, (image, image_boxes) in enumerate(zip(images, boxes)):
        height, width = image.shape[:2]
        for box in image_boxes:
            pixels = box_corners(box, height, width)
            if is_empty(pixels):
                continue
            jobs.append((index, pixels, context_window(pixels, height, width, context)))
    outputs = [image.copy() for image in images]
    if not jobs:
        return outputs
    crops, shapes = [], []
    for index, _, (cx1, cy1, cx2, cy2) in jobs:
        crop = images[index][cy1:cy2, cx1:cx2]
        size = (-(-crop.shape[0] // size_multiple) * size_multiple,
                -(-crop.shape[1] // size_multiple) * size_multiple)
        crops.append(_padded(crop, size))
        shapes.append(crop.shape[:2])
    restored = restorer(crops)
    for (index, (x1, y1, x2, y2), (cx1, cy1, _, _)), result in zip(jobs, restored):
        outputs[index][y1:y2, x1:x2] = result[y1 - cy1:y2 - cy1, x1 - cx1:x2 - cx1]
    return outputs


__all__ = ['Box', 'Restorer', 'box_corners', 'is_empty', 'context_window', 'restore_regions']
