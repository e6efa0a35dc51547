"""Paste restored face regions into the pixelated image."""
from typing import Sequence

import torch

from rdid_mm.utils.boxes import box_to_slices


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
