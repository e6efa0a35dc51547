"""The one box helper: an ``[x, y, w, h]`` face box as the pixel slices it covers."""
import math
from typing import Sequence


def box_to_slices(box: Sequence[float], height: int, width: int):
    """Integer (rows, cols) slices covering an [x, y, w, h, ...] box, clipped to the image.

    The slices round outwards (floor of the top-left, ceil of the bottom-right), so they cover
    every pixel the box touches; an empty or off-image box gives empty slices.
    """
    x, y, w, h = (float(v) for v in box[:4])
    x0 = min(max(math.floor(x), 0), width)
    y0 = min(max(math.floor(y), 0), height)
    x1 = min(max(math.ceil(x + w), x0), width)
    y1 = min(max(math.ceil(y + h), y0), height)
    return slice(y0, y1), slice(x0, x1)
