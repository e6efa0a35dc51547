"""Face boxes: from raw detections to the pixel regions that get pixelated.

A raw detection is ``(x1, y1, x2, y2, score, source)`` in image pixels (floats, corners).
:func:`prepare_face_boxes` turns raw detections into *final boxes*: the margin is added, each box is
rounded outwards to whole pixels, clipped to the image, empty or out-of-image boxes are dropped
(counted), and boxes that overlap are merged into their enclosing box until no two overlap. Final
boxes are therefore disjoint, so pixelating them does not depend on their order.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

from rdid_mm.utils.boxes import merge_until_apart

Detection = Tuple[float, float, float, float, float, str]


@dataclass(frozen=True)
class FaceBox:
    """A final box: integer pixel corners ``[x1, x2) x [y1, y2)``, the best score, its sources."""
    x1: int
    y1: int
    x2: int
    y2: int
    score: float
    sources: Tuple[str, ...]

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def to_record(self) -> list:
        """``[x, y, w, h, score, source]``, the ``faces.json`` entry."""
        return [self.x1, self.y1, self.width, self.height, round(float(self.score), 4),
                '+'.join(self.sources)]


@dataclass
class BoxStats:
    """What happened to raw detections on their way to final boxes."""
    detections: Dict[str, int] = field(default_factory=dict)
    dropped_empty: int = 0
    dropped_outside: int = 0
    merged: int = 0


def expand_box(x1, y1, x2, y2, margin: float):
    """Grow a box by ``margin`` times its width (height) on the left and right (top and bottom)."""
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return x1 - dx, y1 - dy, x2 + dx, y2 + dy


def prepare_face_boxes(detections: Iterable[Detection], width: int, height: int,
                       margin: float = 0.0) -> Tuple[List[FaceBox], BoxStats]:
    """Margin, whole-pixel rounding, clipping, dropping and merging (see the module docstring).

    A box with no area before clipping (non-positive or non-finite width or height) counts as
    ``dropped_empty``; one that keeps no pixel inside the image after clipping as
    ``dropped_outside``.
    """
    stats = BoxStats()
    boxes = []
    for x1, y1, x2, y2, score, source in detections:
        stats.detections[source] = stats.detections.get(source, 0) + 1
        coords = (x1, y1, x2, y2)
        if not all(math.isfinite(v) for v in coords) or x2 <= x1 or y2 <= y1:
            stats.dropped_empty += 1
            continue
        x1, y1, x2, y2 = expand_box(x1, y1, x2, y2, margin)
        ix1, iy1 = max(0, math.floor(x1)), max(0, math.floor(y1))
        ix2, iy2 = min(width, math.ceil(x2)), min(height, math.ceil(y2))
        if ix2 <= ix1 or iy2 <= iy1:
            stats.dropped_outside += 1
            continue
        boxes.append(FaceBox(ix1, iy1, ix2, iy2, float(score), (source, )))
    merged = merge_overlapping(boxes)
    stats.merged = len(boxes) - len(merged)
    return merged, stats


def _overlap(a: FaceBox, b: FaceBox) -> bool:
    return min(a.x2, b.x2) > max(a.x1, b.x1) and min(a.y2, b.y2) > max(a.y1, b.y1)


def _enclose(a: FaceBox, b: FaceBox) -> FaceBox:
    return FaceBox(min(a.x1, b.x1), min(a.y1, b.y1), max(a.x2, b.x2), max(a.y2, b.y2),
                   max(a.score, b.score), tuple(sorted(set(a.sources) | set(b.sources))))


def merge_overlapping(boxes: Sequence[FaceBox]) -> List[FaceBox]:
    """Replace every pair of overlapping boxes by their enclosing box, until none overlap.

    Sorted by position, so the result does not depend on the input order.
    """
    boxes = merge_until_apart(boxes, _overlap, _enclose)
    return sorted(boxes, key=lambda b: (b.y1, b.x1, b.y2, b.x2))


def covered_fraction(box: Sequence[float], face_boxes: Sequence[FaceBox]) -> float:
    """Fraction of ``box`` (corners) inside the union of disjoint final boxes."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area <= 0:
        return 0.0
    inside = 0.0
    for fb in face_boxes:
        iw = min(box[2], fb.x2) - max(box[0], fb.x1)
        ih = min(box[3], fb.y2) - max(box[1], fb.y1)
        if iw > 0 and ih > 0:
            inside += iw * ih
    return float(inside / area)


def point_in_boxes(x: float, y: float, face_boxes: Sequence[FaceBox]) -> bool:
    """Whether the point lies in a final box (pixel ``(x, y)`` covers ``[x, x+1)``)."""
    return any(fb.x1 <= x < fb.x2 and fb.y1 <= y < fb.y2 for fb in face_boxes)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns the kept indices, best score first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind='stable')
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        order = rest[iou < iou_thr]
    return np.asarray(keep, dtype=np.int64)
