"""The localiser on a video's frames for a fraction of its learned detector's cost.

The learned detector (:mod:`.mosaic_net`) costs about 0.4 s a megapixel on one thread, and a
video's frames differ little from one to the next. So the lattice runs on every frame, the network
on the whole frame every ``every``-th frame (and on a video's first frame), and on the frames
between only where the lattice disagrees with the frame before: around each mosaic of the frame
before that no lattice box matches (IoU >= 0.5) and each lattice box that matches none of them (a
piece of a mosaic the network's box would replace), with the mosaics these regions reach into.
Where a lattice box matches a mosaic of the frame before, the network's box would match it too and
the lattice box is kept either way. Each region is a box grown by its longer side (a face moving
less than its width a frame stays inside), seen by the network with ``REACH`` px more (its
receptive field is about 38 px), so its maps there are the whole frame's; the boxes are combined
with the lattice's as :func:`.localiser.locate_mosaics` does. A face found stays found; a mosaic
only the network sees that appears between whole-frame passes is found at the next pass, up to
``every - 1`` frames late. ``every`` is the face tracker's ``max_gap`` + 1, so a face lost between
passes is found again within a gap its track bridges.
"""
import threading
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from rdid_mm.utils.boxes import boxes_overlap, xywh_iou

from .face_tracks import MAX_GAP
from .localiser import Mosaic, locate_mosaics

#: Whole-frame passes of the network: every ``NETWORK_EVERY``-th frame.
NETWORK_EVERY = MAX_GAP + 1
#: Context the network sees around a part of the frame (px; even: its half-resolution grid).
REACH = 48


def network_regions(boxes: Sequence[Mosaic], width: int, height: int,
                    grow: float = 1.0) -> List[Tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)``: each box grown by ``grow`` times its longer side (clipped to the
    frame), overlapping ones merged."""
    from .localiser import _merge_rects
    rects = []
    for m in boxes:
        side = int(np.ceil(grow * max(m.w, m.h)))
        rects.append((max(int(m.x) - side, 0), max(int(m.y) - side, 0),
                      min(int(np.ceil(m.x + m.w)) + side, width),
                      min(int(np.ceil(m.y + m.h)) + side, height)))
    return _merge_rects(rects, 0, width, height)


def regional_mosaics(y: np.ndarray, regions: Sequence[Tuple[int, int, int, int]],
                     net=None) -> List[Mosaic]:
    """The network's boxes (:func:`.mosaic_net.learned_mosaics`) lying inside ``regions`` of a
    float luma image: its maps computed there only (each region seen with ``REACH`` px around it,
    from an even corner: the whole image's maps; a large region in tiles, as the whole image),
    boxes cut by a region's edge left out."""
    from .mosaic_net import learned_mosaics, load_mosaic_net, mosaic_maps
    net = net or load_mosaic_net()
    height, width = y.shape
    inside, edge = np.zeros_like(y), np.zeros_like(y)
    for x0, y0, x1, y1 in regions:
        cx0, cy0 = max(x0 - REACH, 0) // 2 * 2, max(y0 - REACH, 0) // 2 * 2
        cx1, cy1 = min(x1 + REACH, width), min(y1 + REACH, height)
        part = mosaic_maps(y[cy0:cy1, cx0:cx1], net)  # in tiles where large: bounded memory
        keep = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
        inside[y0:y1, x0:x1], edge[y0:y1, x0:x1] = part[0][keep], part[1][keep]
    return [m for m in learned_mosaics(y, maps=(inside, edge))
            if any(_within(m, r, width, height) for r in regions)]


def _within(m: Mosaic, region: Tuple[int, int, int, int], width: int, height: int) -> bool:
    """``m`` inside ``region`` and clear of its edges (the frame's own edges excepted)."""
    x0, y0, x1, y1 = region
    return ((m.x > x0 or x0 == 0) and (m.y > y0 or y0 == 0)
            and (m.x + m.w < x1 or x1 == width) and (m.y + m.h < y1 or y1 == height))


class StridedLocaliser:
    """:func:`.localiser.locate_mosaics` on the frames of videos, in order, with the network on
    the whole frame only every ``every``-th frame (see the module docstring); ``every=1``: on
    every frame, as the localiser on each image. Frames of several videos may interleave (each
    keeps its own state); a frame that does not follow its video's last one gets a whole pass.

    ``network_frames`` counts the whole-frame passes and ``region_frames`` the frames where the
    network ran on parts of the frame.
    """

    def __init__(self, every: int = NETWORK_EVERY, grow: float = 1.0):
        if every < 1:
            raise ValueError(f'the network runs every N >= 1 frames, got {every}')
        self.every, self.grow = int(every), float(grow)
        self.network_frames = self.region_frames = 0
        self._last: Dict[str, Tuple[int, List[Mosaic]]] = {}  # video: last frame, its mosaics
        self._lock = threading.Lock()

    def mosaics(self, index: int, frame: np.ndarray, video: str = '') -> List[Mosaic]:
        """The mosaics of frame ``index`` of ``video``."""
        with self._lock:
            last: Optional[Tuple[int, List[Mosaic]]] = self._last.pop(video, None)
        whole = index % self.every == 0 or last is None or last[0] != index - 1
        looked = []

        def network(y: np.ndarray, lattice: List[Mosaic]) -> List[Mosaic]:
            from .mosaic_net import learned_mosaics
            if whole:
                return learned_mosaics(y)
            # only where the lattice disagrees with the frame before (the module docstring)
            unmatched = [box for box in last[1]
                         if not any(xywh_iou(m, box) >= 0.5 for m in lattice)]
            unmatched += [m for m in lattice if not any(xywh_iou(m, box) >= 0.5 for box in last[1])]
            height, width = y.shape
            regions = network_regions(unmatched, width, height, self.grow)
            # with the mosaics these reach into: a network box over a lattice box drops it
            near = [b for b in list(last[1]) + list(lattice)
                    if b not in unmatched
                    and any(boxes_overlap((b.x, b.y, b.x + b.w, b.y + b.h), r) for r in regions)]
            looked.extend(network_regions(unmatched + near, width, height, self.grow))
            return regional_mosaics(y, looked) if looked else []

        mosaics = locate_mosaics(frame, learned=network)
        with self._lock:
            self._last[video] = (index, mosaics)
            if whole:
                self.network_frames += 1
            elif looked:
                self.region_frames += 1
        return mosaics

    def __call__(self, index: int, frame: np.ndarray) -> List[list]:
        """``restore_video``'s ``boxes_for_frame``: one video's boxes as ``[x, y, w, h]``."""
        return [m.to_list()[:4] for m in self.mosaics(index, frame)]
