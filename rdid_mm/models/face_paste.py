"""Paste restored face regions into the pixelated image."""
import math
from typing import Sequence

import torch


def box_to_slices(box: Sequence[float], height: int, width: int):
    """Integer (rows, cols) slices covering an [x, y, w, h] box, clipped to the image.

    The slices round outwards (floor of the top-left, ceil of the bottom-right), so they cover
    every pixel the box touches; an empty or off-image box gives empty slices.
    """
    x, y, w, h = (float(v) for v in box[:4])
    x0 = min(max(math.floor(x), 0), width)
    y0 = min(max(math.floor(y), 0), height)
    x1 = min(max(math.ceil(x + w), x0), width)
    y1 = min(max(math.ceil(y + h), y0), height)
    return slice(y0, y1), slice(x0, x1)


def paste_face_regions(background: torch.Tensor, restored: torch.Tensor,
                       face_boxes: Sequence[Sequence[float]]) -> torch.Tensor:
    """``background`` with the pixels of ``restored`` inside ``face_boxes`` ([x, y, w, h]).

    Both tensors are (C, H, W) of the same shape; neither is modified.
    """
    if background.shape != restored.shape:
        raise ValueError(f'background {tuple(background.shape)} and restored '
                         f'{tuple(restored.shape)} differ in shape')
    height, width = background.shape[-2:]
    out = background.clone().to(restored.dtype)
    for box in face_boxes:
        rows, cols = box_to_slices(box, height, width)
        out[..., rows, cols] = restored[..., rows, cols]
    return out
