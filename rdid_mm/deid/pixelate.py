"""Pixelation: the function and the ``Pixelate`` transform.

Strength ``S`` is the block size in pixels at the image's native resolution. A box region of
``w x h`` pixels is downscaled with linear interpolation to ``ceil(w/S) x ceil(h/S)``, rounded to
8 bits (half up), and upscaled back to ``w x h`` with nearest-neighbour interpolation. Pixels
outside the boxes are left untouched.

Both resizes use the pixel-centre convention (``align_corners=False``, as OpenCV's ``INTER_LINEAR``,
PIL and ``torch.nn.functional.interpolate``): output pixel ``i`` samples the input at
``(i + 0.5) * in / out - 0.5`` for linear (taps clamped to the border), and takes input pixel
``floor((i + 0.5) * in / out)`` for nearest. Both are computed exactly in integer arithmetic, so the
half-up rounding never depends on floating-point error (bilinear weights are often exact halves).
"""
import math
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from rdid_mm.registry import TRANSFORMS


def pixelate_region(region: np.ndarray, strength: int) -> np.ndarray:
    """Pixelate a whole ``H x W (x C)`` uint8 region at block size ``strength``."""
    if strength < 1:
        raise ValueError(f'strength must be a positive number of pixels, got {strength}')
    h, w = region.shape[:2]
    small_h, small_w = math.ceil(h / strength), math.ceil(w / strength)
    y0, y1, fy, dy = linear_taps(h, small_h)
    x0, x1, fx, dx = linear_taps(w, small_w)
    pixels = region.astype(np.int64)
    if pixels.ndim == 3:
        fy, fx = fy[:, None, None], fx[None, :, None]
    else:
        fy, fx = fy[:, None], fx[None, :]
    top = pixels[y0][:, x0] * (dx - fx) + pixels[y0][:, x1] * fx
    bottom = pixels[y1][:, x0] * (dx - fx) + pixels[y1][:, x1] * fx
    numerator = top * (dy - fy) + bottom * fy
    denominator = dx * dy
    small = ((2 * numerator + denominator) // (2 * denominator)).astype(np.uint8)
    return small[nearest_indices(h, small_h)][:, nearest_indices(w, small_w)]


def linear_taps(in_size: int, out_size: int):
    """Linear-resize taps along one axis: ``(i0, i1, weight_numerator, denominator)``.

    Output pixel ``i`` is ``in[i0] * (den - num) / den + in[i1] * num / den``.
    """
    denominator = 2 * out_size
    position = np.maximum((2 * np.arange(out_size, dtype=np.int64) + 1) * in_size - out_size, 0)
    i0 = position // denominator
    fraction = position - i0 * denominator
    at_border = i0 >= in_size - 1
    i0 = np.where(at_border, in_size - 1, i0)
    fraction = np.where(at_border, 0, fraction)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, fraction, denominator


def nearest_indices(out_size: int, in_size: int) -> np.ndarray:
    """For each output pixel ``i``, the input pixel ``floor((i + 0.5) * in / out)``."""
    i = np.arange(out_size, dtype=np.int64)
    return (2 * i + 1) * in_size // (2 * out_size)


def pixelate_boxes(image: np.ndarray, boxes: Sequence[Sequence[int]], strength: int) -> np.ndarray:
    """A copy of ``image`` with each corner box ``(x1, y1, x2, y2)`` pixelated.

    Boxes are rounded outwards to whole pixels and clipped to the image; each is pixelated from the
    original pixels (a later box wins where boxes overlap; final boxes from
    :func:`rdid_mm.deid.face_boxes.prepare_face_boxes` never overlap).
    """
    out = image.copy()
    height, width = image.shape[:2]
    for x1, y1, x2, y2 in boxes:
        x1, y1 = max(0, math.floor(x1)), max(0, math.floor(y1))
        x2, y2 = min(width, math.ceil(x2)), min(height, math.ceil(y2))
        if x2 > x1 and y2 > y1:
            out[y1:y2, x1:x2] = pixelate_region(image[y1:y2, x1:x2], strength)
    return out


@TRANSFORMS.register_module()
class Pixelate(BaseTransform):
    """Pixelate face boxes in the images of a results dict.

    Args:
        keys: the image keys to pixelate (``H x W x C`` uint8 arrays).
        strength: block size in pixels at the image's resolution.
        boxes_key: the key holding the boxes.
        box_format: ``'xywh'`` (COCO, as in ``faces.json``) or ``'xyxy'``.
        output_keys: where to store the results (defaults to ``keys``: in place).

    Adds ``strength`` to the results.
    """

    def __init__(self, keys=('img', ), strength: int = 8, boxes_key: str = 'face_boxes',
                 box_format: str = 'xywh', output_keys=None):
        if box_format not in ('xywh', 'xyxy'):
            raise ValueError(f"box_format must be 'xywh' or 'xyxy', got {box_format!r}")
        if int(strength) != strength or strength < 1:
            raise ValueError(f'strength must be a positive integer, got {strength!r}')
        self.keys = (keys, ) if isinstance(keys, str) else tuple(keys)
        self.output_keys = self.keys if output_keys is None else (
            (output_keys, ) if isinstance(output_keys, str) else tuple(output_keys))
        if len(self.output_keys) != len(self.keys):
            raise ValueError('output_keys must name one output per key')
        self.strength = int(strength)
        self.boxes_key = boxes_key
        self.box_format = box_format

    def _corner_boxes(self, boxes):
        corners = []
        for box in boxes:
            x, y, a, b = (float(v) for v in box[:4])
            corners.append((x, y, x + a, y + b) if self.box_format == 'xywh' else (x, y, a, b))
        return corners

    def transform(self, results: dict) -> dict:
        boxes = self._corner_boxes(results.get(self.boxes_key, []))
        for key, out_key in zip(self.keys, self.output_keys):
            results[out_key] = pixelate_boxes(results[key], boxes, self.strength)
        results['strength'] = self.strength
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, strength={self.strength}, '
                f'boxes_key={self.boxes_key!r}, box_format={self.box_format!r}, '
                f'output_keys={self.output_keys})')
