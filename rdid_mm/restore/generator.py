"""The one place that calls a model: uint8 RGB arrays in, uint8 RGB restorations out.

Region, whole-image and video restoration, the tools and the GPU check all go through
:func:`model_restorer`, so switching to another model interface is one edit here.
"""
from typing import Callable, List, Sequence

import numpy as np
import torch

from rdid_mm.models.restorers import as_restorer

Restorer = Callable[[Sequence[np.ndarray]], List[np.ndarray]]


def check_rgb(image: np.ndarray) -> None:
    """Refuse anything but an ``H x W x 3`` uint8 array (a grey or float image would be
    restored silently wrong)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}')


def model_restorer(model: torch.nn.Module, batch_size: int = 8) -> Restorer:
    """A function restoring a list of ``H x W x 3`` uint8 RGB arrays with ``model``.

    The model's own restore interface (:mod:`rdid_mm.models.restorers`: pad, translate in eval
    mode, crop) on tensors normalised by its data preprocessor; arrays of the same shape are
    batched together, ``batch_size`` at a time. Runs under any autocast the caller opened.
    """
    model = as_restorer(model)
    device = next(model.parameters()).device
    preprocessor = model.data_preprocessor

    @torch.no_grad()
    def restore(images: Sequence[np.ndarray]) -> List[np.ndarray]:
        for image in images:
            check_rgb(image)
        out: List[np.ndarray] = [None] * len(images)
        by_shape = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                batch = torch.from_numpy(np.stack([images[i] for i in chunk]))
                source = batch.permute(0, 3, 1, 2).to(device).float()
                normalised = (source - preprocessor.mean) / preprocessor.std
                restored = model.restore_tensor(normalised).float()
                restored = restored * preprocessor.std + preprocessor.mean
                restored = restored.clamp(0, 255).round().to(torch.uint8)
                for i, r in zip(chunk, restored.permute(0, 2, 3, 1).cpu().numpy()):
                    out[i] = r
        return out

    return restore
