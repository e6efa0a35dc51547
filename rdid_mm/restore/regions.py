"""Whole-image restoration in tiles; region mode (crop each box with context, restore, paste back)
lives in :mod:`rdid_mm.models.region_restore`, shared with the models' val/test steps.
"""
import numpy as np

from rdid_mm.models.region_restore import Restorer


def restore_whole(image: np.ndarray, restorer: Restorer, tile: int = 1024,
                  overlap: int = 64) -> np.ndarray:
    """The generator's output everywhere; images larger than ``tile`` go in overlapping tiles so
    memory stays bounded (each tile keeps its centre, the overlap gives it context)."""
    height, width = image.shape[:2]
    if height <= tile and width <= tile:
        return restorer([image])[0]
    out = np.empty_like(image)
    step = tile - 2 * overlap
    for ty in range(0, height, step):
        for tx in range(0, width, step):
            y0, x0 = max(ty - overlap, 0), max(tx - overlap, 0)
            y1, x1 = min(ty + step + overlap, height), min(tx + step + overlap, width)
            result = restorer([image[y0:y1, x0:x1]])[0]
            ey, ex = min(ty + step, height), min(tx + step, width)
            out[ty:ey, tx:ex] = result[ty - y0:ey - y0, tx - x0:ex - x0]
    return out


__all__ = ['restore_whole']
