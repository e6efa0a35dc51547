"""An independent pixelation, written from the definition in exact rational arithmetic.

Strength S: the region (w x h) is resized with bilinear interpolation, pixel centres aligned
(``align_corners=False``: output pixel i samples input position (i + 0.5) * in / out - 0.5, the two
taps clamped to the border), to ceil(w/S) x ceil(h/S); each value is rounded half up to an integer;
the small image is resized back to w x h with nearest neighbour (output pixel i takes input pixel
floor((i + 0.5) * in / out)). Pure Python with ``Fraction``: slow, exact, and shares no code with
``rdid_mm.deid.pixelate``.
"""
import math
from fractions import Fraction

import numpy as np


def _linear_tap(in_size, out_size, i):
    position = max(Fraction(2 * i + 1, 2) * Fraction(in_size, out_size) - Fraction(1, 2), 0)
    left = math.floor(position)
    if left >= in_size - 1:
        return in_size - 1, in_size - 1, Fraction(0)
    return left, left + 1, position - left


def pixelate_reference(region: np.ndarray, strength: int) -> np.ndarray:
    h, w = region.shape[:2]
    channels = region.shape[2] if region.ndim == 3 else 1
    pixels = region.reshape(h, w, channels).tolist()
    small_h, small_w = math.ceil(h / strength), math.ceil(w / strength)
    small = [[[0] * channels for _ in range(small_w)] for _ in range(small_h)]
    for j in range(small_h):
        y0, y1, fy = _linear_tap(h, small_h, j)
        for i in range(small_w):
            x0, x1, fx = _linear_tap(w, small_w, i)
            for c in range(channels):
                top = (1 - fx) * pixels[y0][x0][c] + fx * pixels[y0][x1][c]
                bottom = (1 - fx) * pixels[y1][x0][c] + fx * pixels[y1][x1][c]
                small[j][i][c] = math.floor((1 - fy) * top + fy * bottom + Fraction(1, 2))
    out = np.zeros((h, w, channels), dtype=np.uint8)
    for y in range(h):
        sy = math.floor(Fraction(2 * y + 1, 2) * Fraction(small_h, h))
        for x in range(w):
            sx = math.floor(Fraction(2 * x + 1, 2) * Fraction(small_w, w))
            out[y, x] = small[sy][sx]
    return out.reshape(region.shape)
