"""Strength-robust training: re-pixelate the clean crop with a random mosaic per sample.

The builder's mosaics have one fixed strength and one style (bilinear averages stretched by
nearest neighbour). Third-party data differ: ``deface`` draws squares of one sampled pixel starting
at the corner of its enlarged box; other tools average blocks on a grid anchored elsewhere; most
add JPEG on top. :class:`RandomPixelate` draws, per crop, a block size, a style, a grid offset, a
box enlargement and a JPEG quality, and writes the new mosaic into the source image, so one model
sees them all. The target (clean) image is untouched; the builder's fixed strengths stay for
Table 1.
"""
import math
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from rdid_mm.deid.pixelate import pixelate_region
from rdid_mm.registry import TRANSFORMS

STYLES = ('builder', 'mean', 'sample')


def grid_pixelate(region: np.ndarray, block: int, offset: Tuple[int, int],
                  style: str) -> np.ndarray:
    """Pixelate ``region`` on a square grid of ``block`` px whose lines sit at ``offset`` (x, y).

    ``style='mean'``: each block takes the mean of its pixels in the region; ``'sample'``: the
    colour of its top-left pixel in the region (as ``deface --replacewith mosaic``).
    """
    h, w = region.shape[:2]
    ox, oy = offset[0] % block, offset[1] % block
    col_block = (np.arange(w) + (block - ox) % block) // block
    row_block = (np.arange(h) + (block - oy) % block) // block
    if style == 'sample':
        first_col = np.r_[0, np.flatnonzero(np.diff(col_block)) + 1]
        first_row = np.r_[0, np.flatnonzero(np.diff(row_block)) + 1]
        return region[first_row[row_block]][:, first_col[col_block]]
    if style != 'mean':
        raise ValueError(f"style must be 'mean' or 'sample' here, got {style!r}")
    n_cols, n_rows = col_block[-1] + 1, row_block[-1] + 1
    labels = (row_block[:, None] * n_cols + col_block[None, :]).ravel()
    counts = np.bincount(labels, minlength=n_rows * n_cols)
    flat = region.reshape(h * w, -1).astype(np.float64)
    means = np.stack([np.bincount(labels, weights=flat[:, c], minlength=n_rows * n_cols)
                      for c in range(flat.shape[1])], axis=1) / counts[:, None]
    out = np.floor(means + 0.5).astype(region.dtype)[labels]
    return out.reshape(region.shape)


@TRANSFORMS.register_module()
class RandomPixelate(BaseTransform):
    """Replace ``key``'s face regions by a random mosaic of ``source_key``'s (the clean image).

    Args:
        key: the image to write (the model's input, e.g. ``img_mosaic``).
        source_key: the clean image pixelated (``img_gt``).
        boxes_key: face boxes ``[x, y, w, h]`` in the current (cropped) image.
        block_range: inclusive range of block sizes in pixels.
        styles: styles drawn uniformly: ``builder`` (:func:`rdid_mm.deid.pixelate`), ``mean``
            and ``sample`` (grids with a random offset).
        box_scale_range: each box is grown about its centre by a factor drawn from this range
            (``deface`` grows its boxes by 1.6).
        jpeg_quality_range: JPEG quality drawn from this range for the whole input image...
        jpeg_prob: ...with this probability.

    Adds ``strength`` (the block size), ``pixelate_style`` and ``jpeg_quality`` (0 for none).
    """

    def __init__(self, key: str = 'img_mosaic', source_key: str = 'img_gt',
                 boxes_key: str = 'face_boxes', block_range: Tuple[int, int] = (4, 32),
                 styles: Sequence[str] = STYLES, box_scale_range: Tuple[float, float] = (1.0, 1.6),
                 jpeg_quality_range: Tuple[int, int] = (60, 95), jpeg_prob: float = 0.5):
        if not 1 <= block_range[0] <= block_range[1]:
            raise ValueError(f'block_range must be 1 <= low <= high, got {block_range}')
        if not styles or any(s not in STYLES for s in styles):
            raise ValueError(f'styles must be a non-empty subset of {STYLES}, got {styles}')
        if not 1 <= jpeg_quality_range[0] <= jpeg_quality_range[1] <= 100:
            raise ValueError(f'jpeg_quality_range must lie in 1..100, got {jpeg_quality_range}')
        if not 0 < box_scale_range[0] <= box_scale_range[1]:
            raise ValueError(f'box_scale_range must be 0 < low <= high, got {box_scale_range}')
        self.key, self.source_key, self.boxes_key = key, source_key, boxes_key
        self.block_range = (int(block_range[0]), int(block_range[1]))
        self.styles = tuple(styles)
        self.box_scale_range = tuple(float(v) for v in box_scale_range)
        self.jpeg_quality_range = (int(jpeg_quality_range[0]), int(jpeg_quality_range[1]))
        self.jpeg_prob = float(jpeg_prob)

    def transform(self, results: dict) -> dict:
        clean = results[self.source_key]
        out = clean.copy()
        height, width = clean.shape[:2]
        block = int(np.random.randint(self.block_range[0], self.block_range[1] + 1))
        style = self.styles[np.random.randint(len(self.styles))]
        scale = float(np.random.uniform(*self.box_scale_range))
        for box in results.get(self.boxes_key, []):
            x, y, w, h = (float(v) for v in box[:4])
            cx, cy = x + w / 2, y + h / 2
            x1 = max(math.floor(cx - w * scale / 2), 0)
            y1 = max(math.floor(cy - h * scale / 2), 0)
            x2 = min(math.ceil(cx + w * scale / 2), width)
            y2 = min(math.ceil(cy + h * scale / 2), height)
            if x2 <= x1 or y2 <= y1:
                continue
            region = clean[y1:y2, x1:x2]
            if style == 'builder':
                out[y1:y2, x1:x2] = pixelate_region(region, block)
            else:
                offset = (int(np.random.randint(block)), int(np.random.randint(block)))
                out[y1:y2, x1:x2] = grid_pixelate(region, block, offset, style)
        quality = 0
        if np.random.rand() < self.jpeg_prob:
            quality = int(np.random.randint(self.jpeg_quality_range[0],
                                            self.jpeg_quality_range[1] + 1))
            out = _jpeg(out, quality)
        results[self.key] = out
        results.update(strength=block, pixelate_style=style, jpeg_quality=quality)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, block_range={self.block_range}, '
                f'styles={self.styles}, box_scale_range={self.box_scale_range}, '
                f'jpeg_quality_range={self.jpeg_quality_range}, jpeg_prob={self.jpeg_prob})')


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode through JPEG (RGB in, RGB out; grey stays grey)."""
    if image.ndim == 3 and image.shape[2] == 3:
        ok, data = cv2.imencode('.jpg', cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    ok, data = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).reshape(image.shape)
