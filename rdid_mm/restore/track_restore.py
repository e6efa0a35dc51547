"""Temporally stable restoration along face tracks: one restoration per track key, warped into
every frame of the track.

Restoring each frame on its own makes a moving face flicker: the mosaic's blocks are re-cut every
frame, so the generator sees a different input and invents a different face (12.5 grey levels of
change between frames where the mosaic changes 7.6). Here a track's face is restored once, on its
first frame (the key: the box with a margin, the same crop and context as region mode), and each
later frame gets that restoration moved and scaled (bilinear) from the key's box into the frame's
smoothed box (:mod:`.face_tracks`), plus the change of the mosaic's mean colour since the key
(lighting). The key is renewed, with a cross-fade over a few frames, when the mosaic under the box
differs from the key's by more than ``refresh_change`` grey levels (the head turned; compared in
the box's own coordinates, so motion alone does not count); when it changes that much from one
frame to the next by more than ``cut_change`` (a scene cut, another face) the new key replaces the
old at once.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from rdid_mm.models.region_restore import Restorer, box_corners, is_empty, restore_regions

from .face_tracks import TrackedBox

SIGNATURE_SIZE = 6  # the box's grey content on this grid (cells wider than a mosaic block)


@dataclass
class _Key:
    box: list               # the key frame's smoothed box
    origin: tuple           # (x, y) of the patch's top-left pixel in the key frame
    patch: np.ndarray       # restored pixels of the box with a margin, float32
    mean: np.ndarray        # the mosaic's mean colour in the box then
    signature: np.ndarray   # the mosaic's grey content in the box then


@dataclass
class _TrackState:
    key: _Key
    signature: np.ndarray   # last frame's, to tell a cut from a slow change
    fading: Optional[_Key] = None
    fade_step: int = 0
    shift: Optional[np.ndarray] = None  # the mosaic's mean colour change since the key, smoothed


def box_signature(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """The grey content of ``box`` resampled to ``SIGNATURE_SIZE`` squared (float32)."""
    x1, y1, x2, y2 = box_corners(box, *image.shape[:2])
    grey = cv2.cvtColor(np.ascontiguousarray(image[y1:y2, x1:x2]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (SIGNATURE_SIZE, SIGNATURE_SIZE),
                      interpolation=cv2.INTER_AREA).astype(np.float32)


def box_mean(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    x1, y1, x2, y2 = box_corners(box, *image.shape[:2])
    return image[y1:y2, x1:x2].reshape(-1, image.shape[2]).mean(axis=0).astype(np.float32)


def warp_box(image: np.ndarray, origin: Sequence[float], source: Sequence[float],
             target: Sequence[float], corners: tuple, uniform: bool = False) -> np.ndarray:
    """``image`` (whose top-left pixel is ``origin`` in frame coordinates) moved and scaled so
    that box ``source`` lands on box ``target`` (``uniform``: centre on centre, one scale from
    the areas, so that a box's wavering aspect does not stretch the face), sampled over the
    frame pixels ``corners`` (x1, y1, x2, y2): bilinear at pixel centres, edges replicated;
    float32."""
    x1, y1, x2, y2 = corners
    kx, ky, kw, kh = (float(v) for v in source[:4])
    bx, by, bw, bh = (float(v) for v in target[:4])
    rx, ry = kw / bw, kh / bh
    if uniform:
        rx = ry = float(np.sqrt(rx * ry))
    matrix = np.array([[rx, 0.0, (x1 + 0.5 - bx - bw / 2) * rx + kx + kw / 2 - origin[0] - 0.5],
                       [0.0, ry, (y1 + 0.5 - by - bh / 2) * ry + ky + kh / 2 - origin[1] - 0.5]])
    return cv2.warpAffine(image.astype(np.float32), matrix, (x2 - x1, y2 - y1),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


class TrackStableRestorer:
    """Restores the frames of one video in order, one :class:`TrackedBox` list per frame.

    Args:
        restorer: see :func:`rdid_mm.models.restorers.model_restorer`.
        context: the context around each box the generator sees, as in region mode.
        margin: the key patch's margin around its box (fraction of the box size), room for the
            moves and the smoothed box's disagreement with the mosaic.
        refresh_change: mean grey change of the mosaic under the box since the key above which
            the key is renewed.
        cut_change: mean grey change from the previous frame above which the track is cut.
        fade: frames over which a renewed key cross-fades in.
        colour_rate: weight of each frame's mean-colour change in its running average (the
            mosaic's mean under a moving box wavers by a grey level or so; light changes slowly).
    """

    def __init__(self, restorer: Restorer, context: float = 0.5, margin: float = 0.1,
                 refresh_change: float = 25.0, cut_change: float = 40.0, fade: int = 3,
                 colour_rate: float = 0.2):
        self.restorer, self.context, self.margin = restorer, context, margin
        self.colour_rate = colour_rate
        self.refresh_change, self.cut_change, self.fade = refresh_change, cut_change, fade
        self.tracks: Dict[int, _TrackState] = {}
        self.counts = dict(keys=0, refreshes=0, cuts=0, reused=0)
        self.pasted: List[tuple] = []  # the last frame's filled pixels, (x1, y1, x2, y2) each

    def restore_frame(self, frame: np.ndarray, boxes: Sequence[TrackedBox]) -> np.ndarray:
        """``frame`` with the faces of ``boxes`` restored (a new array); :attr:`pasted` says
        which pixels changed."""
        height, width = frame.shape[:2]
        out = frame.copy()
        self.pasted = []
        boxes = [b for b in boxes if not is_empty(box_corners(b.box, height, width))]
        signatures = [box_signature(frame, b.box) for b in boxes]
        renew = []
        for tracked, signature in zip(boxes, signatures):
            state = self.tracks.get(tracked.track)
            if state is None:
                renew.append(tracked)
            elif np.abs(signature - state.signature).mean() > self.cut_change:
                self.counts['cuts'] += 1
                del self.tracks[tracked.track]
                renew.append(tracked)
            elif np.abs(signature - state.key.signature).mean() > self.refresh_change:
                self.counts['refreshes'] += 1
                renew.append(tracked)
            else:
                self.counts['reused'] += 1
        for tracked, key in zip(renew, self._keys(frame, renew)):
            state = self.tracks.get(tracked.track)
            if state is None:
                self.tracks[tracked.track] = _TrackState(key, key.signature)
            else:
                state.fading, state.fade_step, state.key = state.key, 0, key
                state.shift = None
        for tracked, signature in zip(boxes, signatures):
            state = self.tracks[tracked.track]
            state.signature = signature
            self._paste(out, frame, tracked, state)
        present = {b.track for b in boxes}  # tracks bridge their gaps: one absent has ended
        self.tracks = {k: v for k, v in self.tracks.items() if k in present}
        return out

    def _keys(self, frame: np.ndarray, boxes: List[TrackedBox]) -> List[_Key]:
        """Restore the boxes (with the margin) in one call; the same crop as region mode."""
        if not boxes:
            return []
        height, width = frame.shape[:2]
        wider = [[x - self.margin * w, y - self.margin * h, w * (1 + 2 * self.margin),
                  h * (1 + 2 * self.margin)] for x, y, w, h in (b.box[:4] for b in boxes)]
        context = max(self.context - self.margin, 0.0) / (1 + 2 * self.margin)
        restored = restore_regions([frame], [wider], self.restorer, context=context)[0]
        keys = []
        for tracked, box in zip(boxes, wider):
            x1, y1, x2, y2 = box_corners(box, height, width)
            keys.append(_Key(list(tracked.box[:4]), (x1, y1),
                             restored[y1:y2, x1:x2].astype(np.float32),
                             box_mean(frame, tracked.box), box_signature(frame, tracked.box)))
            self.counts['keys'] += 1
        return keys

    def _render(self, key: _Key, box: list, corners: tuple, shift: np.ndarray) -> np.ndarray:
        return warp_box(key.patch, key.origin, key.box, box, corners, uniform=True) + shift

    def _paste(self, out: np.ndarray, frame: np.ndarray, tracked: TrackedBox,
               state: _TrackState) -> None:
        """Fill the smoothed box (and the raw box, where the source gave one) with the key."""
        height, width = frame.shape[:2]
        x1, y1, x2, y2 = box_corners(tracked.box, height, width)
        if tracked.raw is not None:
            rx1, ry1, rx2, ry2 = box_corners(tracked.raw, height, width)
            if not is_empty((rx1, ry1, rx2, ry2)):
                x1, y1, x2, y2 = min(x1, rx1), min(y1, ry1), max(x2, rx2), max(y2, ry2)
        mean = box_mean(frame, tracked.box)
        shift = mean - state.key.mean
        if state.shift is not None:
            shift = state.shift + self.colour_rate * (shift - state.shift)
        state.shift = shift
        face = self._render(state.key, tracked.box, (x1, y1, x2, y2), shift)
        if state.fading is not None:
            state.fade_step += 1
            weight = state.fade_step / (self.fade + 1)
            old = self._render(state.fading, tracked.box, (x1, y1, x2, y2),
                               mean - state.fading.mean)
            face = weight * face + (1 - weight) * old
            if state.fade_step >= self.fade:
                state.fading = None
        out[y1:y2, x1:x2] = np.clip(np.rint(face), 0, 255).astype(np.uint8)
        self.pasted.append((x1, y1, x2, y2))


__all__ = ['TrackStableRestorer', 'box_signature', 'warp_box']
