"""Ground truth for the localiser benchmark (``benchmark_restore.py --localiser``) and its tests:
where the builder and the ``deface`` tool put their mosaics.

The builder's boxes are its ``faces.json``; the block size of a box ``w x h`` at strength ``S`` is
the effective pitch ``(w / ceil(w / S) + h / ceil(h / S)) / 2``.

``deface --replacewith mosaic`` draws, for every CenterFace detection, the box grown by its mask
scale (``scale_bb``), clipped to the frame, in squares of ``mosaicsize`` pixels starting at the
box's top-left corner. ``cv2.rectangle`` fills both end points, so the drawn rectangle is
``[x1, x2] x [y1, y2]`` inclusive. :func:`deface_rectangles` recomputes these from deface's own
detector and functions, not from the changed pixels (flat squares change nothing).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from rdid_mm.utils.boxes import xywh_iou

Box = Tuple[float, float, float, float]


def builder_block_size(w: int, h: int, strength: int) -> float:
    """The effective pitch of a builder mosaic (see :mod:`rdid_mm.deid.pixelate`)."""
    return (w / math.ceil(w / strength) + h / math.ceil(h / strength)) / 2


def deface_rectangles(image: np.ndarray, threshold: float = 0.2, mask_scale: float = 1.3,
                      centerface=None) -> List[Tuple[int, int, int, int]]:
    """The ``(x, y, w, h)`` rectangles ``deface`` pixelates in an RGB image (its defaults)."""
    from deface.centerface import CenterFace
    centerface = centerface or CenterFace(in_shape=None, backend='auto')
    dets, _ = centerface(image, threshold=threshold)
    height, width = image.shape[:2]
    rects = [deface_drawn(det, height, width, mask_scale) for det in dets]
    return [r for r in rects if r is not None]


def deface_drawn(det: Sequence[float], height: int, width: int, mask_scale: float = 1.3,
                 mosaicsize: Optional[int] = None):
    """The ``(x, y, w, h)`` rectangle deface draws for one detection ``(x1, y1, x2, y2, ...)``
    in a ``height x width`` frame (as its ``anonymize_frame``), or ``None`` if empty. Its mosaic
    squares start every ``mosaicsize`` px from ``x1`` below ``x2`` and end at most at ``x2``, so
    column ``x2`` stays as it was when ``x2 - x1`` is a multiple of ``mosaicsize`` (given)."""
    from deface.deface import scale_bb
    x1, y1, x2, y2 = np.asarray(det[:4]).astype(int)
    x1, y1, x2, y2 = scale_bb(x1, y1, x2, y2, mask_scale)
    y1, y2 = max(0, y1), min(height - 1, y2)
    x1, x2 = max(0, x1), min(width - 1, x2)
    if x2 <= x1 or y2 <= y1:
        return None
    w, h = x2 - x1 + 1, y2 - y1 + 1
    if mosaicsize:
        w -= (x2 - x1) % mosaicsize == 0
        h -= (y2 - y1) % mosaicsize == 0
    return int(x1), int(y1), int(w), int(h)


def union_of_overlapping(boxes: Sequence[Box]) -> List[Box]:
    """The enclosing boxes of groups of overlapping boxes (deface draws overlapping detections
    one over the other, which looks like one mosaic)."""
    groups = [list(b[:4]) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if xywh_iou(groups[i], groups[j]) > 0:
                    a, b = groups[i], groups[j]
                    x1, y1 = min(a[0], b[0]), min(a[1], b[1])
                    x2, y2 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                    groups[i] = [x1, y1, x2 - x1, y2 - y1]
                    del groups[j]
                    changed = True
                    break
            if changed:
                break
    return [tuple(g) for g in groups]


def score_detections(cases: Sequence[dict], iou_threshold: float = 0.5,
                     block_tolerance: float = 1.0) -> Dict[str, float]:
    """Recall, precision and block-size accuracy over ``cases``.

    Each case: ``found`` (``[x, y, w, h, block, score]`` lists), ``targets`` (boxes that must be
    found, optionally with a 5th element, the true block size), ``allowed`` (every box a
    detection may match without being a false positive; defaults to ``targets``) and optionally
    ``target_unions`` (per target, a box that also counts as finding it: the enclosing box of
    the mosaics that touch or overlap it, which look like one).
    """
    targets = hits = blocks_ok = blocks_checked = found = true_found = 0
    misses, false_positives = [], []
    for case in cases:
        dets = [list(d) for d in case['found']]
        allowed = list(case.get('allowed', case['targets']))
        found += len(dets)
        unions = case.get('target_unions') or [None] * len(case['targets'])
        for target, union in zip(case['targets'], unions):
            targets += 1
            matches = [d for d in dets if xywh_iou(target, d) >= iou_threshold
                       or (union is not None and xywh_iou(union, d) >= iou_threshold)]
            if not matches:
                misses.append((case.get('name'), list(target)))
                continue
            hits += 1
            if len(target) > 4 and target[4] is not None:
                blocks_checked += 1
                best = max(matches, key=lambda d: xywh_iou(target, d))
                blocks_ok += abs(best[4] - target[4]) <= block_tolerance
        for det in dets:
            if any(xywh_iou(a, det) >= iou_threshold for a in allowed):
                true_found += 1
            else:
                false_positives.append((case.get('name'), det))
    return dict(recall=hits / targets if targets else float('nan'),
                precision=true_found / found if found else 1.0,
                block_accuracy=blocks_ok / blocks_checked if blocks_checked else float('nan'),
                targets=targets, hits=hits, found=found, true_found=true_found,
                false_positives=false_positives,
                misses=misses)
