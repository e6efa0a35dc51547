"""Face tracks in a video: the boxes of each frame associated with those of the frames before, so
that a face is one track with one id, and its box smoothed along the track.

Association is Hungarian matching (``scipy.optimize.linear_sum_assignment``) on the IoU between
this frame's boxes and each live track's predicted box (its last box moved on at the median
velocity of its last ``VELOCITY_STEPS`` steps); a pair needs IoU ``min_iou``, or a box near the
predicted one (centre within ``near`` times its longer side, each side within a factor 1.5): a
fast face (a low frame rate, a pan) moves more than half its width between frames before its
track has a velocity to predict with (on the stability benchmark's held-out photo a 43 px face
moving 25 px a frame became 5 tracks). A track missed for up to ``max_gap`` frames (a localiser
miss, an occlusion) continues, and the missed frames get interpolated boxes: the mosaic is
still there. Smoothing is a local quadratic fit of the box centre and size over ``window``
frames of the track (held near the boxes given where they trace the path, and within
``max_shift`` of the box's size of them), so a face moving smoothly keeps its path while the
jitter of whole-pixel or detected boxes averages out (a moving average over 5 frames left the
restored faces of a panning, zooming camera 1.76 grey levels of flicker, this fit over 9 frames
1.58; 13 frames of moving average, 5.2). The face's scale along the track, which places a
track's key in each frame, is fitted apart (:func:`scale_path`): over more frames, robustly, each
box axis weighted by how well it keeps to its fit.
Boxes are ``[x, y, w, h]`` in pixels.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from rdid_mm.utils.boxes import xywh_iou

#: Frames a track may miss and still continue (the default).
MAX_GAP = 2
#: Steps of a track's box its velocity is the median of.
VELOCITY_STEPS = 3
#: Frames of a track its scale is fitted over (:func:`scale_path`). Tuning, 14 still-camera
#: videos (28 tracks), the frame-to-frame change of the scale's error, RMS: the localiser's boxes
#: 0.78 % (the area's root smoothed over 9 frames) -> 0.26 % (15) / 0.21 % (21), exact boxes
#: 0.13 % -> 0.09 % / 0.12 %
SCALE_WINDOW = 15


@dataclass
class Track:
    """One face along the video: the frames it is in and its boxes there (``None`` where the
    box was interpolated over a gap)."""
    id: int
    frames: List[int] = field(default_factory=list)
    boxes: List[list] = field(default_factory=list)
    detected: List[bool] = field(default_factory=list)

    def predicted(self, frame: int) -> list:
        """The last box moved on to ``frame`` at the track's velocity: the median of the
        centre's last ``VELOCITY_STEPS`` steps (the size is not extrapolated: a shrinking box
        would vanish). A detected box that grows by a block on one side for a frame (into the
        neck, a neighbour) jumps its corner or centre; the last step alone carried that jump
        on and lost the face on the next frame (a face's track cut in two)."""
        last = np.asarray(self.boxes[-1], dtype=np.float64)
        if len(self.frames) < 2:
            return last.tolist()
        recent = np.asarray(self.boxes[-VELOCITY_STEPS - 1:], dtype=np.float64)
        centres = recent[:, :2] + recent[:, 2:4] / 2
        steps = np.diff(centres, axis=0) / np.diff(self.frames[-VELOCITY_STEPS - 1:])[:, None]
        moved = last.copy()
        moved[:2] += np.median(steps, axis=0) * (frame - self.frames[-1])
        return moved.tolist()


@dataclass
class TrackedBox:
    """A box of one frame: its ``track`` id, the smoothed ``box`` to restore, the ``raw`` box
    the source gave (``None`` on a frame the track bridged), the track's ``jitter``: how far
    its given box centres spread about the smoothed ones (px, a robust standard deviation), and
    its ``scale``: :func:`scale_path` at this frame (``exp`` of the difference between two
    frames' is how much the face grew between them; ``None``: the boxes' areas say)."""
    track: int
    box: list
    raw: Optional[list]
    jitter: float = 0.0
    scale: Optional[float] = None  # the track's scale_path here (log; only differences count)


class FaceTracker:
    """Associates each frame's boxes with the live tracks (:meth:`update`, frame by frame).

    Args:
        min_iou: smallest IoU of a box with a track's predicted box to continue that track.
        max_gap: frames a track may miss and still continue.
        near: a box whose centre lies within this times the predicted box's longer side (and of
            about its size) continues the track at any IoU.
    """

    def __init__(self, min_iou: float = 0.3, max_gap: int = MAX_GAP, near: float = 0.75):
        self.min_iou, self.max_gap, self.near = float(min_iou), int(max_gap), float(near)
        self.tracks: Dict[int, Track] = {}
        self.frame = -1

    def update(self, boxes: Sequence[Sequence[float]]) -> List[int]:
        """The track id of each of the next frame's boxes (a new id for a new face)."""
        from scipy.optimize import linear_sum_assignment
        self.frame += 1
        boxes = [[float(v) for v in b[:4]] for b in boxes]
        live = [t for t in self.tracks.values() if self.frame - t.frames[-1] <= self.max_gap + 1]
        ids = [-1] * len(boxes)
        if live and boxes:
            predicted = [t.predicted(self.frame) for t in live]
            iou = np.array([[xywh_iou(p, b) for b in boxes] for p in predicted])
            near = np.array([[self._near(p, b) for b in boxes] for p in predicted])
            linked = (iou >= self.min_iou) | near
            # only linked pairs count (an unlinked overlap must not pull a track off its face);
            # among them the larger overlap
            rows, cols = linear_sum_assignment(-np.where(linked, 1.0 + iou, 0.0))
            for r, c in zip(rows, cols):
                if linked[r, c]:
                    ids[c] = live[r].id
        for index, box in enumerate(boxes):
            if ids[index] < 0:
                ids[index] = len(self.tracks)
                self.tracks[ids[index]] = Track(ids[index])
            self._extend(self.tracks[ids[index]], box)
        return ids

    def _near(self, predicted: Sequence[float], box: Sequence[float]) -> bool:
        """``box`` is close to ``predicted`` and of about its size (not a neighbouring face:
        two faces side by side have centres at least a face width apart)."""
        (px, py, pw, ph), (x, y, w, h) = predicted, box
        if min(pw, ph, w, h) <= 0 or not (1 / 1.5 <= w / pw <= 1.5 and 1 / 1.5 <= h / ph <= 1.5):
            return False
        distance = np.hypot(x + w / 2 - px - pw / 2, y + h / 2 - py - ph / 2)
        return bool(distance <= self.near * max(pw, ph))

    def _extend(self, track: Track, box: list) -> None:
        if track.frames:  # bridge a gap with boxes interpolated between its ends
            last, start = track.frames[-1], track.boxes[-1]
            gap = self.frame - last
            for step in range(1, gap):
                track.frames.append(last + step)
                track.boxes.append([a + (b - a) * step / gap for a, b in zip(start, box)])
                track.detected.append(False)
        track.frames.append(self.frame)
        track.boxes.append(box)
        track.detected.append(True)


def smooth_boxes(boxes: Sequence[Sequence[float]], window: int = 9,
                 max_shift: float = 0.2) -> List[list]:
    """The centres and sizes of a track's consecutive boxes smoothed by a local quadratic fit
    over ``window`` frames (Savitzky-Golay; at the ends the fit over the first or last
    ``window``): a face moving, turning or zooming smoothly keeps its path, the jitter of
    whole-pixel boxes and of detections averages out.

    Each value stays within 0.5 px plus 2.5 times the boxes' noise (a robust standard deviation,
    from their second differences) of a box given on the path (one a line through the 3 boxes
    before it or the 3 after it meets), and within ``max_shift`` times the box's size of the box
    given. So a kink is kept (a camera stopping at the photo's edge, a face turning back), which
    a quadratic over 9 frames rounds off: on the tuning videos the fit alone missed exact boxes by
    up to 7.5 px there, and a face placed by it jumped; and a box off the path for a frame (one
    the localiser grew by a block) is smoothed over as before."""
    from scipy.signal import savgol_filter
    if window < 1:
        raise ValueError(f'the smoothing window must be at least 1 frame, got {window}')
    boxes = np.asarray([b[:4] for b in boxes], dtype=np.float64).reshape(-1, 4)
    centred = np.concatenate([boxes[:, :2] + boxes[:, 2:] / 2, boxes[:, 2:]], axis=1)
    frames = min(window, len(centred) - 1 + len(centred) % 2)  # odd, at most the track
    if frames < 3:
        return [list(b) for b in boxes.tolist()]
    fitted = savgol_filter(centred, frames, min(2, (frames - 1) // 2), axis=0, mode='interp')
    tolerance = 0.5 + 2.5 * _box_noise(centred)
    # a box on the path (the line through the 3 boxes before it or the 3 after it passes within
    # the tolerance: a kink is on it) holds the fit to it; one off it (an outlier) does not
    ahead = _line_ahead(centred)
    behind = _line_ahead(centred[::-1])[::-1]
    with np.errstate(invalid='ignore'):  # NaN where a side has too few boxes: the other decides
        on_path = (np.abs(centred - ahead) <= tolerance) | (np.abs(centred - behind) <= tolerance)
    fitted = np.where(on_path, np.clip(fitted, centred - tolerance, centred + tolerance), fitted)
    limit = max_shift * np.tile(centred[:, 2:], 2)
    fitted = np.clip(fitted, centred - limit, centred + limit)
    return [[cx - w / 2, cy - h / 2, w, h] for cx, cy, w, h in fitted.tolist()]


def scale_path(boxes: Sequence[Sequence[float]], window: int = SCALE_WINDOW,
               observed: Optional[Sequence[bool]] = None) -> List[float]:
    """How a track's face grows and shrinks, per box: the log of its size, up to a constant.

    Each axis's log size is fitted by a local quadratic over ``window`` frames (Tukey's biweight,
    reweighted: a box grown by a block for some frames is left out; boxes not ``observed``, those
    interpolated over a gap, count for nothing), and the two axes' fits are averaged frame by
    frame, each weighted by the inverse square of its mean misfit over the window. A detector's
    box is often right on one axis and grown by a block on the other, now and then (the
    localiser's boxes of the still-camera tuning videos: the width to a pixel, the height a block
    over on most frames, not on the others); the area's square root, smoothed over 9 frames, then
    jumps by a few percent (see ``SCALE_WINDOW``).
    """
    sizes = np.log(np.maximum(np.asarray([b[2:4] for b in boxes], np.float64).reshape(-1, 2),
                              1e-3))
    frames = len(sizes)
    seen = np.ones(frames) if observed is None else np.asarray(observed, np.float64)
    window = min(window - 1 + window % 2, frames - 1 + frames % 2)  # odd, at most the track
    if window < 5:
        return (sizes.mean(axis=1) - sizes.mean()).tolist() if frames else []
    fits, misfits = _robust_local_quadratic(sizes, window, seen)
    kernel = np.ones(window)
    seen_nearby = np.maximum(np.convolve(seen, kernel, mode='same'), 1.0)  # fewer at the ends
    # the floor (1e-4, a hundredth of a percent) keeps the weight of an axis exactly on its fit
    # finite; such an axis then decides alone, as it should
    noise = np.stack([np.convolve(m * seen, kernel, mode='same') / seen_nearby
                      for m in misfits.T], axis=1) + 1e-4
    weights = noise ** -2 / (noise ** -2).sum(axis=1, keepdims=True)
    return ((fits - fits.mean(axis=0)) * weights).sum(axis=1).tolist()


def _robust_local_quadratic(values: np.ndarray, window: int, seen: np.ndarray,
                            rounds: int = 4, tuning: float = 4.685):
    """Per row and column of ``values`` (frames x columns), a quadratic fitted to the ``window``
    rows around it (at the ends the first or last ``window``), the rows weighted by ``seen``
    (0 or 1), and evaluated there; refitted ``rounds - 1`` times, reweighted by Tukey's biweight
    of the residuals (``tuning`` robust standard deviations). And each row's absolute residual
    from its own fit."""
    frames = len(values)
    starts = np.clip(np.arange(frames) - window // 2, 0, frames - window)
    rows = starts[:, None] + np.arange(window)[None]                     # frames x window
    offsets = (rows - np.arange(frames)[:, None]).astype(np.float64)
    design = np.stack([np.ones_like(offsets), offsets, offsets ** 2], axis=-1)  # f x w x 3
    prior = seen[rows]
    prior[prior.sum(axis=1) < 3] = 1.0  # too few boxes seen in the window to fit: all count
    fits = np.empty_like(values)
    for column in range(values.shape[1]):
        window_values = values[rows, column]                             # frames x window
        weights = prior
        for round_ in range(rounds):
            normal = np.einsum('fwi,fw,fwj->fij', design, weights, design)
            moment = np.einsum('fwi,fw,fw->fi', design, weights, window_values)
            coefficients = np.linalg.solve(normal + 1e-12 * np.eye(3), moment[..., None])[..., 0]
            if round_ == rounds - 1:
                break
            residuals = window_values - np.einsum('fwi,fi->fw', design, coefficients)
            counted = np.where(prior > 0, np.abs(residuals), np.nan)
            spread = 1.4826 * np.nanmedian(counted, axis=1, keepdims=True) + 1e-9
            scaled = residuals / (tuning * spread)
            weights = prior * np.where(np.abs(scaled) < 1, (1 - scaled ** 2) ** 2, 0.0)
            few = weights.sum(axis=1) < 3  # too few left to fit: all seen count
            weights[few] = prior[few]
        fits[:, column] = coefficients[:, 0]
    return fits, np.abs(values - fits)


def _robust_sd(values: np.ndarray) -> np.ndarray:
    """1.4826 times the median absolute value, per column: a standard deviation that a few
    outliers (a kink, a grown box) do not move."""
    return 1.4826 * np.median(np.abs(values), axis=0)


def _box_noise(centred: np.ndarray) -> np.ndarray:
    """Per column, how far the boxes scatter about their path: from the second differences (a
    smooth path's are near 0, a kink makes one or two large ones; noise of deviation s makes
    them s * sqrt(6)), and at least a uniform step's (step / sqrt(12)) where the boxes snap to
    a grid, standing still on most frames and jumping a grid step now and then (boxes of a
    mosaic cut on a fixed grid around a slow face): there most second differences are 0 and the
    staircase would count as the path."""
    noise = _robust_sd(np.diff(centred, 2, axis=0)) / np.sqrt(6)
    steps = np.abs(np.diff(centred, axis=0))
    for column in range(centred.shape[1]):
        moved = steps[:, column] > 1e-6
        if moved.any() and moved.mean() < 0.5:
            noise[column] = max(noise[column], np.median(steps[moved, column]) / np.sqrt(12))
    return noise


def _line_ahead(values: np.ndarray) -> np.ndarray:
    """Per row, what the least-squares line through the 3 rows before it predicts there (2 at
    the third row; NaN at the first two)."""
    predicted = np.full_like(values, np.nan)
    if len(values) > 2:
        predicted[2] = 2 * values[1] - values[0]
        predicted[3:] = (4 * values[2:-1] + values[1:-2] - 2 * values[:-3]) / 3
    return predicted


def _jitter(given: Sequence[Sequence[float]], smoothed: Sequence[Sequence[float]]) -> float:
    """1.4826 times the median distance between the given and smoothed centres (the larger
    of the two axes')."""
    if not given:
        return 0.0
    given, smoothed = np.asarray(given, np.float64), np.asarray(smoothed, np.float64)
    offsets = (given[:, :2] + given[:, 2:4] / 2) - (smoothed[:, :2] + smoothed[:, 2:4] / 2)
    return float(_robust_sd(offsets).max())


def track_video(boxes_per_frame: Sequence[Sequence[Sequence[float]]], min_iou: float = 0.3,
                max_gap: int = MAX_GAP, window: int = 9,
                max_shift: float = 0.2) -> List[List[TrackedBox]]:
    """Track the boxes of a whole video and smooth them: per frame, its :class:`TrackedBox` es
    (in track id order), including the boxes bridging a track's gaps."""
    tracker = FaceTracker(min_iou, max_gap)
    for boxes in boxes_per_frame:
        tracker.update(boxes)
    frames: List[List[TrackedBox]] = [[] for _ in boxes_per_frame]
    for track in tracker.tracks.values():
        smoothed = smooth_boxes(track.boxes, window, max_shift)
        with np.errstate(invalid='ignore', over='ignore'):
            scales = scale_path(track.boxes, observed=track.detected)
        if not np.isfinite(scales).all():  # a source's box of no size: the areas place its key
            scales = [None] * len(scales)
        jitter = _jitter([b for b, d in zip(track.boxes, track.detected) if d],
                         [b for b, d in zip(smoothed, track.detected) if d])
        for index, box, raw, detected, scale in zip(track.frames, smoothed, track.boxes,
                                                    track.detected, scales):
            frames[index].append(TrackedBox(track.id, box, list(raw) if detected else None,
                                            jitter, scale))
    return frames


__all__ = ['MAX_GAP', 'Track', 'TrackedBox', 'FaceTracker', 'scale_path', 'smooth_boxes',
           'track_video']
