"""The box helpers every package shares: an ``[x, y, w, h]`` box as the pixel slices it covers,
whether two boxes overlap, and the IoU of two boxes."""
import math
from typing import Callable, List, Sequence, TypeVar

T = TypeVar('T')


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


def boxes_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two corner boxes ``(x1, y1, x2, y2)`` overlap: each starts before the other ends
    on both axes (boxes that only touch at an edge or corner do not)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two corner boxes ``(x1, y1, x2, y2)``."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def xywh_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two ``[x, y, w, h, ...]`` boxes (:func:`box_iou` of their corners)."""
    return box_iou((a[0], a[1], a[0] + a[2], a[1] + a[3]), (b[0], b[1], b[0] + b[2], b[1] + b[3]))


def merge_until_apart(items: Sequence[T], mergeable: Callable[[T, T], bool],
                      merge: Callable[[T, T], T]) -> List[T]:
    """Replace the first ``mergeable`` pair by its ``merge`` until no pair is mergeable (a merged
    item may now reach a third: boxes grown together, pieces of one mosaic)."""
    out = list(items)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            j = next((j for j in range(i + 1, len(out)) if mergeable(out[i], out[j])), None)
            if j is not None:
                out[i] = merge(out[i], out[j])
                del out[j]
                merged = True
                break
    return out

