"""Temporally stable restoration along face tracks: one restoration per track key, warped into
every frame of the track.

Restoring each frame on its own makes a moving face flicker: the mosaic's blocks are re-cut every
frame, so the generator sees a different input and invents a different face (12.5 grey levels of
change between frames where the mosaic changes 7.6). Here a track's face is restored once, on its
first frame (the key: the box with a margin, the same crop and context as region mode), and each
later frame gets that restoration moved and scaled (bilinear) into place, plus the change of the
mosaic's mean colour since the key (lighting). The place comes from the image where it can: the key
frame's grey surroundings of the face are registered with the frame (:func:`register`: ECC,
sub-pixel, started from the smoothed boxes' centres of :mod:`.face_tracks` and the track's scale
path (:func:`.face_tracks.scale_path`); the frame's boxes and 2 px around them are left out, where
the key's own mosaic lands), first a ring of the box's size each side (affine), then the head
close around the face (moved only, scaled by the scale path; ``RINGS``).
Boxes are whole pixels (the builder's) or a block off (the localiser's), and half a pixel of
misplacement moves a restored face's texture by as much: on the stability benchmark (a camera
swinging over a photo), placing by the smoothed boxes alone left 7.7 grey levels of flicker on a
face (2.4 in the original video), 2.4 registered. The wide ring
moves with the face only when the camera moves; before a still camera it stays behind, and the head
ring, where the head is flat, keeps a part of the still background. So where the given box holds a
mosaic grid (:mod:`.mosaic_grid`: the builder's, found without the strength), the mosaic decides:
the key's own blocks, interpolated, are matched with each frame's blocks (the face sampled on a grid
cut in the given box, so it moves with the face whatever the background does), and a registration
counts only where it fits the frame's blocks about as well as the best match does
(``MOSAIC_SLACK``); where none does, the match places the key. Without a grid (another tool's
mosaic, a later frame's box that lost the mosaic) a registration counts while it is a similarity
that agrees with the box the source gave (within 1 px plus 2.5 times the track's jitter, plus
half of that box's size difference from the key's: the localiser's box grows by a mosaic block
into the surroundings on some frames, which moves its centre by half a block); where no ring's
does, the smoothed box's centre and the scale path place the key.
The key is renewed, with a cross-fade over a few frames, when the mosaic under the box differs from
the key's by more than ``refresh_change`` grey levels (the head turned; compared in the box's own
coordinates, so motion alone does not count); when it changes that much from one frame to the next
by more than ``cut_change`` (a scene cut, another face) the new key replaces the old at once.
The mosaic is compared on two boxes, the smoothed one and the one the source gave, and counts as
unchanged if any pairing of the key's with this frame's is (:func:`signature_change`): the blocks
are cut in the source's box, so a smoothed box a pixel or two off it (where the path kinks: a
camera stopped at the photo's edge) moves the high-contrast blocks across the grid's cells, and one
lagging a fast face (up to a fifth of its size) holds another part of the mosaic. The key keeps the
source's box only within ``SOURCE_AGREEMENT`` of the smoothed box's size: further off, the source's
box may already hold the neighbouring face the smoothed box the key was restored on is still moving
to, and a key matched there would never be renewed. The tuning figures behind this are in
docs/restore.md ("Key renewals").

The key is softened to the sharpness of the frame around the face (:func:`soften_to`): the
generator draws pixel-sized detail however soft the video is, and detail finer than the video's
changes with every sub-pixel resampling into place (tuning composites: the keys were about twice
as sharp as the filmed faces, and flickered 0.7 grey levels above them on average; see
docs/restore.md, "Sharpness").
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from rdid_mm.models.region_restore import (
    Restorer,
    box_corners,
    context_window,
    is_empty,
    restore_regions,
)

from .face_tracks import TrackedBox
from .mosaic_grid import MosaicSamples, mosaic_samples

SIGNATURE_SIZE = 6  # the box's grey content on this grid (cells wider than a mosaic block)
#: the surroundings registered, tried in turn: (fraction of the box's size each side, at least px,
#: motion model). A face's size, affine (the camera moves everything: the most to register, and
#: the zoom with it); then a quarter (the head, which moves with the face also before a still
#: camera), translation only, the scale from the track (scale_path): an affine fit of so thin a
#: ring turned and stretched the faces (still camera, tuning composites: flicker 7.17 -> 2.60 on
#: rocket)
RINGS = ((1.0, 16, cv2.MOTION_AFFINE), (0.25, 4, cv2.MOTION_TRANSLATION))
#: how far (every edge, as a fraction of the smoothed box's longer side) the source's box may be
#: from the smoothed one and still count in a key's signature (:func:`signatures`; a frame's counts
#: at any distance). Tuning (94 videos, exact boxes; 20 with the localiser's): 0.1 renews no key
#: (localiser: none); 0.05, in 2 videos (1); 4 px whatever the size, none (1): the smoothing's
#: deviation grows with the face
SOURCE_AGREEMENT = 0.1
MASK_MARGIN = 2     # px around each box left out of the registration (the mosaic's edge)
#: sharpness (:func:`sharpness`): the detail finer than a Gaussian of the first sigma against the
#: band between the two; a key sharper than its surroundings by more than ``SHARPER`` times is
#: softened to them (:func:`soften_to`), in steps of ``SOFTEN_STEP`` up to ``MAX_SOFTEN``
#: (Gaussian sigma, px)
SHARPNESS_SCALES = (0.8, 2.4)
#: grey levels: less band than this (a wall, a gentle gradient's 8-bit steps) is no detail to judge
#: sharpness by (blurred noise at sigma 1.2: 4.7; a ramp of 30 levels over 120 px: 0.1)
MIN_BAND = 0.5
SHARPER = 1.15
SOFTEN_STEP, MAX_SOFTEN = 0.1, 2.0
#: the most sharpness a key is softened to, however sharp the frame around the face: fur, a
#: rocket's gantry or a retina's vessels are sharper than a filmed face (the tuning composites'
#: filmed faces 0.27-0.34), and a key left that sharp flickered as the texture is resampled
#: (tuning, 29 videos: 0.34 lowered 19 of them, rocket 3.02 -> 2.16, moon 2.51 -> 1.85, and raised
#: none; 0.40 lowered 9; docs/restore.md, "Sharpness")
MAX_REFERENCE = 0.34
#: placing a key by its mosaic (:meth:`TrackStableRestorer._mosaic_fit`): the translations tried
#: around the smoothed boxes' placement (px: reach, coarse step, fine step); the coarse search
#: moves to a best on its edge up to ``MOSAIC_ROUNDS`` times (a smoothed box lags a fast face by
#: up to a fifth of its size)
MOSAIC_SEARCH = (3.0, 0.25, 0.05)
MOSAIC_ROUNDS = 3
#: a registration counts where its mosaic misfit is at most (1 + this) times the best placement's
#: (one per ``RINGS``: the wide ring, which stays behind by pixels when it fails, gets more room
#: than the head ring, which fails by a fraction of a pixel), plus ``MOSAIC_NOISE`` (grey
#: levels squared). Tuning, in memory, 14 still-camera videos: the head ring's 0.3 against 0.5,
#: flicker summed 31.6 against 34.3; the wide ring's 1.0 against 0.3, with a moving camera, 16.9
#: against 17.1 (a registration passed over for the mosaic's placement now and then)
MOSAIC_SLACK = (1.0, 0.3)
MOSAIC_NOISE = 1.0
MIN_CORRELATION = 0.9  # ECC's correlation of the ring with the frame for a registration to count
MAX_STRETCH = 1.03    # a registration is a similarity: its two scales within 3% of each other,
MAX_TURN = 0.05       # a turn of at most this (radians),
MAX_SCALE = 0.1       # its scale within 10% of the track's scale path,
AGREEMENT = 1.0       # and (where no mosaic grid is found) the face's centre within this (px)
                      # plus 2.5 times the track's jitter
                      # of the given box (or, where the track bridged a gap, the smoothed box),
                      # plus half its size's difference from the key's box (moved): see _placement


@dataclass
class _Key:
    box: list               # the key frame's smoothed box
    origin: tuple           # (x, y) of the patch's top-left pixel in the key frame
    patch: np.ndarray       # restored pixels of the box with a margin, float32
    rings: list             # the key frame's grey surroundings of the box, one per ``RINGS``:
                            # (float32 pixels, (x, y) of the top-left one, motion model); none
                            # unregistered
    mean: np.ndarray        # the mosaic's mean colour in the box then
    signature: list         # the mosaic's grey content then (:func:`signatures`)
    scale: Optional[float]  # the track's scale path then (:func:`.face_tracks.scale_path`)
    mosaic: Optional[tuple] = None  # its mosaic (YCrCb) as an image: (the block values
                                    # interpolated, (x, y) of its top-left pixel); none where
                                    # the given box holds no grid (:mod:`.mosaic_grid`)


@dataclass
class _TrackState:
    key: _Key
    signature: list         # last frame's, to tell a cut from a slow change
    fading: Optional[_Key] = None
    fade_step: int = 0
    shift: Optional[np.ndarray] = None  # the mosaic's mean colour change since the key, smoothed


def box_signature(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """The grey content of ``box`` resampled to ``SIGNATURE_SIZE`` squared (float32)."""
    x1, y1, x2, y2 = box_corners(box, *image.shape[:2])
    grey = cv2.cvtColor(np.ascontiguousarray(image[y1:y2, x1:x2]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (SIGNATURE_SIZE, SIGNATURE_SIZE),
                      interpolation=cv2.INTER_AREA).astype(np.float32)


def signatures(image: np.ndarray, tracked: TrackedBox,
               any_distance: bool = False) -> List[np.ndarray]:
    """The :func:`box_signature` of the smoothed box and of the given box (the one the mosaic's
    blocks were cut in), where the source gave one that differs from the smoothed box.

    A key's (``any_distance=False``) takes the given box only within ``SOURCE_AGREEMENT`` of the
    smoothed box's size on every edge: further off, the given box may hold another face than
    the smoothed box the key was restored on (a source switching to the neighbouring face: the
    smoothed box follows over a few frames), and a key matched on it would never be renewed. A
    frame compared with its key (``any_distance=True``) takes the given box wherever it is: where
    the face moves fast (a camera swinging back at the photo's edge, 20 px a frame) the smoothed
    box lags by up to a fifth of the face, and its mosaic alone differed from the key's as a
    new face's would (tuning replay: docs/restore.md, "Key renewals")."""
    found = [box_signature(image, tracked.box)]
    raw = tracked.raw
    if raw is None or is_empty(box_corners(raw, *image.shape[:2])):
        return found
    (x, y, w, h), (sx, sy, sw, sh) = [float(v) for v in raw[:4]], tracked.box[:4]
    offset = max(abs(x - sx), abs(y - sy), abs(x + w - sx - sw), abs(y + h - sy - sh))
    if 0 < offset and (any_distance or offset <= SOURCE_AGREEMENT * max(sw, sh)):
        found.append(box_signature(image, raw))
    return found


def sharpness(grey: np.ndarray, mask: Optional[np.ndarray] = None) -> float:
    """How sharp ``grey`` (float32) is, whatever its contrast: the mean detail finer than a
    Gaussian of ``SHARPNESS_SCALES[0]`` over that of the band up to ``SHARPNESS_SCALES[1]``
    (where ``mask`` is non-zero). A camera's blur and a zoom lower it; 0 where the band holds
    less than ``MIN_BAND`` grey levels (nothing to judge by)."""
    fine, coarse = (cv2.GaussianBlur(grey, (0, 0), s) for s in SHARPNESS_SCALES)
    detail, band = np.abs(grey - fine), np.abs(fine - coarse)
    if mask is not None:
        detail, band = detail[mask > 0], band[mask > 0]
    return float(detail.mean() / band.mean()) if band.size and band.mean() >= MIN_BAND else 0.0


def soften_to(patch: np.ndarray, inner: tuple, reference: float) -> tuple:
    """``patch`` (float32 RGB) blurred just enough that its pixels ``inner`` (x1, y1, x2, y2
    within it) are no sharper than ``reference`` (:func:`sharpness`), when they are sharper by more
    than ``SHARPER`` times; at most ``MAX_SOFTEN``, which may leave them sharper. ``(patch,
    sigma)``, sigma 0 when left as it was."""
    x1, y1, x2, y2 = inner
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    if sharpness(grey[y1:y2, x1:x2]) <= SHARPER * reference:
        return patch, 0.0
    sigma = 0.0
    while sigma < MAX_SOFTEN:
        sigma = round(sigma + SOFTEN_STEP, 6)
        if sharpness(cv2.GaussianBlur(grey, (0, 0), sigma)[y1:y2, x1:x2]) <= reference:
            break
    return cv2.GaussianBlur(patch, (0, 0), sigma), sigma


def signature_change(one: Sequence[np.ndarray], other: Sequence[np.ndarray]) -> float:
    """The mean absolute grey difference of the best-matching pair of :func:`signatures`: the
    mosaic changed only if it differs on every pairing of the boxes."""
    return min(float(np.abs(a - b).mean()) for a in one for b in other)


def box_mean(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    x1, y1, x2, y2 = box_corners(box, *image.shape[:2])
    return image[y1:y2, x1:x2].reshape(-1, image.shape[2]).mean(axis=0).astype(np.float32)


def box_transform(source: Sequence[float], target: Sequence[float],
                  uniform: bool = False, scale: Optional[float] = None) -> np.ndarray:
    """The 3 x 3 map from pixel ``(x, y)`` of one frame to another that moves and scales box
    ``source`` onto box ``target`` (``uniform``: centre on centre, one scale from the areas, so
    that a box's wavering aspect does not stretch the face; ``scale``: centre on centre, that
    scale). Pixels are indexed at their top-left corner; the map keeps pixel centres on the
    boxes' geometry."""
    kx, ky, kw, kh = (float(v) for v in source[:4])
    bx, by, bw, bh = (float(v) for v in target[:4])
    sx, sy = bw / kw, bh / kh
    if scale is not None:
        sx = sy = float(scale)
    elif uniform:
        sx = sy = float(np.sqrt(sx * sy))
    return np.array([[sx, 0.0, sx * (0.5 - kx - kw / 2) + bx + bw / 2 - 0.5],
                     [0.0, sy, sy * (0.5 - ky - kh / 2) + by + bh / 2 - 0.5],
                     [0.0, 0.0, 1.0]])


def _scale(key: _Key, tracked: TrackedBox) -> Optional[float]:
    """How much the face grew since the key: from the track's scale path, not the boxes' areas
    (a box grown by a block on one axis for some frames; :func:`.face_tracks.scale_path`);
    ``None`` (the areas) for boxes without one."""
    if key.scale is None or tracked.scale is None:
        return None
    return float(np.exp(tracked.scale - key.scale))


def _translation(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def warp_patch(image: np.ndarray, origin: Sequence[float], transform: np.ndarray,
               corners: tuple) -> np.ndarray:
    """``image`` (whose top-left pixel is ``origin`` in its frame) moved by ``transform`` (3 x 3,
    its frame's pixels to the target frame's) and sampled over the target pixels ``corners``
    (x1, y1, x2, y2): bilinear, edges replicated; float32."""
    x1, y1, x2, y2 = corners
    to_image = (_translation(-origin[0], -origin[1]) @ np.linalg.inv(transform)
                @ _translation(x1, y1))
    return cv2.warpAffine(image.astype(np.float32), to_image[:2], (x2 - x1, y2 - y1),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def warp_box(image: np.ndarray, origin: Sequence[float], source: Sequence[float],
             target: Sequence[float], corners: tuple, uniform: bool = False) -> np.ndarray:
    """``image`` (top-left pixel at ``origin``) moved so that box ``source`` lands on box
    ``target`` (:func:`box_transform`), sampled over the frame pixels ``corners``."""
    return warp_patch(image, origin, box_transform(source, target, uniform), corners)


def register(ring: np.ndarray, ring_origin: Sequence[float], grey: np.ndarray,
             mask: np.ndarray, initial: np.ndarray,
             motion: int = cv2.MOTION_AFFINE) -> Optional[np.ndarray]:
    """Refine ``initial`` (3 x 3, the ring's frame to ``grey``'s) so that the grey ``ring``
    (top-left pixel at ``ring_origin``) matches ``grey`` where ``mask`` is non-zero: OpenCV's
    ECC with ``motion`` (``cv2.MOTION_TRANSLATION`` keeps ``initial``'s scale and moves it
    only), sub-pixel, on the part of ``grey`` the ring can reach (its cost
    grows with the image it is given). ``None`` where it fails or ends with a correlation under
    ``MIN_CORRELATION`` (ECC returns its last estimate when it runs out of iterations)."""
    height, width = ring.shape
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], float)
    reach = (initial @ _translation(*ring_origin) @ corners.T)[:2]
    pad = 4 + 0.2 * max(width, height)
    x1, y1 = (max(int(np.floor(v - pad)), 0) for v in reach.min(axis=1))
    x2 = min(int(np.ceil(reach[0].max() + pad)), grey.shape[1])
    y2 = min(int(np.ceil(reach[1].max() + pad)), grey.shape[0])
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None
    start = (_translation(-x1, -y1) @ initial @ _translation(*ring_origin))[:2]
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-4)
    try:
        correlation, found = cv2.findTransformECC(
            ring, np.ascontiguousarray(grey[y1:y2, x1:x2]), start.astype(np.float32),
            motion, criteria, np.ascontiguousarray(mask[y1:y2, x1:x2]), 1)
    except cv2.error:  # "the algorithm stopped before its convergence", an empty mask
        return None
    if not np.isfinite(found).all() or not correlation >= MIN_CORRELATION:
        return None
    return (_translation(x1, y1) @ np.vstack([found, [0.0, 0.0, 1.0]])
            @ _translation(-ring_origin[0], -ring_origin[1]))


def _ycrcb(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb)


def frame_mosaic(frame: np.ndarray, box: Optional[Sequence[float]],
                 pitch: Optional[Tuple[float, float]] = None) -> Optional[MosaicSamples]:
    """:func:`.mosaic_grid.mosaic_samples` of ``box`` in ``frame`` (RGB), in YCrCb (the colour
    adds to what the grey blocks tell: tuning, 14 still-camera videos placed by the mosaic alone,
    flicker summed 29.4 grey, 28.1 YCrCb); ``None`` without a box."""
    return None if box is None else mosaic_samples(frame, box, pitch, convert=_ycrcb)


def mosaic_model(found: Optional[MosaicSamples]) -> Optional[tuple]:
    """A key's mosaic ``found`` as an image: its blocks interpolated (cubic) over the part of
    the box they fill, that part's top-left pixel and the blocks' width and height; ``None``
    without one."""
    if found is None:
        return None
    pitch = (float(found.xs[1] - found.xs[0]), float(found.ys[1] - found.ys[0]))
    x, y = (int(round(v[0] + 0.5 - p / 2)) for v, p in zip((found.xs, found.ys), pitch))
    w, h = int(round(pitch[0] * len(found.xs))), int(round(pitch[1] * len(found.ys)))
    model = cv2.resize(found.values, (w, h), interpolation=cv2.INTER_CUBIC)
    return model, (x, y), pitch


#: cv2.remap's maps must have fewer rows than this (SHRT_MAX)
REMAP_ROWS = 32767


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``image`` (``H x W x C``) at the points ``xs``, ``ys`` (any shape): bilinear, edges
    replicated; ``xs.shape + (C,)``. In parts of fewer than ``REMAP_ROWS`` rows: a large face's
    grid times the search's candidates is more."""
    shape = xs.shape
    xs = xs.reshape(-1, shape[-1]).astype(np.float32)
    ys = ys.reshape(-1, shape[-1]).astype(np.float32)
    step = REMAP_ROWS - 1
    found = np.concatenate([cv2.remap(image, xs[i:i + step], ys[i:i + step], cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE).reshape(
                                          min(step, len(xs) - i), shape[-1], -1)
                            for i in range(0, len(xs), step)])
    return found.reshape(*shape, -1)


def _is_similarity(matrix: np.ndarray) -> bool:
    """A move, a uniform scale and at most a slight turn: no mirror, shear or stretch."""
    linear = matrix[:2, :2]
    larger, smaller = np.linalg.svd(linear, compute_uv=False)
    turn = np.arctan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1])
    return bool(np.linalg.det(linear) > 0 and larger <= MAX_STRETCH * smaller
                and abs(turn) <= MAX_TURN)


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
        registration: place the key by registering its surroundings with each frame
            (:func:`register`); ``False``: by the mosaic where a grid is found
            (``mosaic_placement``), else by the smoothed boxes.
        mosaic_placement: place a key by its mosaic where the given boxes hold a block grid
            (:meth:`_mosaic_fit`; counted as ``mosaic_placed``), and let a registration count
            only where it fits the mosaic (``MOSAIC_SLACK``); ``False``: by ``AGREEMENT`` with
            the given box.
        match_sharpness: soften a key that is sharper than its frame around the face
            (:func:`soften_to`; counted as ``softened``). The generator draws pixel-sized detail
            whatever the video's blur, zoom and compression left of it, and detail finer than the
            video's flickers as the key is resampled to each frame's sub-pixel place.
    """

    def __init__(self, restorer: Restorer, context: float = 0.5, margin: float = 0.1,
                 refresh_change: float = 25.0, cut_change: float = 40.0, fade: int = 3,
                 colour_rate: float = 0.2, registration: bool = True,
                 match_sharpness: bool = True, mosaic_placement: bool = True):
        self.restorer, self.context, self.margin = restorer, context, margin
        self.colour_rate, self.registration = colour_rate, registration
        self.match_sharpness, self.mosaic_placement = match_sharpness, mosaic_placement
        self.refresh_change, self.cut_change, self.fade = refresh_change, cut_change, fade
        self.tracks: Dict[int, _TrackState] = {}
        self.counts = dict(keys=0, refreshes=0, cuts=0, reused=0, registered=0,
                           mosaic_placed=0, box_placed=0, softened=0)
        self.pasted: List[tuple] = []  # the last frame's filled pixels, (x1, y1, x2, y2) each

    def restore_frame(self, frame: np.ndarray, boxes: Sequence[TrackedBox]) -> np.ndarray:
        """``frame`` with the faces of ``boxes`` restored (a new array); :attr:`pasted` says
        which pixels changed."""
        height, width = frame.shape[:2]
        out = frame.copy()
        self.pasted = []
        boxes = [b for b in boxes if not is_empty(box_corners(b.box, height, width))]
        found = [signatures(frame, b, any_distance=True) for b in boxes]
        renew = []
        for tracked, signature in zip(boxes, found):
            state = self.tracks.get(tracked.track)
            if state is None:
                renew.append(tracked)
            elif signature_change(signature, state.signature) > self.cut_change:
                self.counts['cuts'] += 1
                del self.tracks[tracked.track]
                renew.append(tracked)
            elif signature_change(signature, state.key.signature) > self.refresh_change:
                self.counts['refreshes'] += 1
                renew.append(tracked)
            else:
                self.counts['reused'] += 1
        grey, mask = self._surroundings(frame, boxes)  # once a frame, keys' rings too
        for tracked, key in zip(renew, self._keys(frame, renew, grey, mask)):
            state = self.tracks.get(tracked.track)
            if state is None:
                self.tracks[tracked.track] = _TrackState(key, key.signature)
            else:
                state.fading, state.fade_step, state.key = state.key, 0, key
                state.shift = None
        for tracked, signature in zip(boxes, found):
            state = self.tracks[tracked.track]
            state.signature = signature
            self._paste(out, frame, tracked, state, grey, mask)
        present = {b.track for b in boxes}  # tracks bridge their gaps: one absent has ended
        self.tracks = {k: v for k, v in self.tracks.items() if k in present}
        return out

    def _keys(self, frame: np.ndarray, boxes: List[TrackedBox], grey: Optional[np.ndarray],
              mask: Optional[np.ndarray]) -> List[_Key]:
        """Restore the boxes (with the margin) in one call, the same crop as region mode; each
        softened to the sharpness of the face's surroundings (``match_sharpness``)."""
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
            patch = restored[y1:y2, x1:x2].astype(np.float32)
            if self.match_sharpness:
                patch = self._soften(patch, (x1, y1), tracked, grey, mask)
            rings = []
            for context, least, motion in RINGS if self.registration else ():
                rx1, ry1, rx2, ry2 = context_window(box_corners(tracked.box, height, width),
                                                    height, width, context, least)
                rings.append((grey[ry1:ry2, rx1:rx2].copy(), (rx1, ry1), motion))
            keys.append(_Key(list(tracked.box[:4]), (x1, y1), patch, rings,
                             box_mean(frame, tracked.box), signatures(frame, tracked),
                             tracked.scale,
                             None if not self.mosaic_placement or tracked.raw is None else
                             mosaic_model(frame_mosaic(frame, tracked.raw))))
            self.counts['keys'] += 1
        return keys

    def _soften(self, patch: np.ndarray, origin: tuple, tracked: TrackedBox, grey: np.ndarray,
                mask: np.ndarray) -> np.ndarray:
        """``patch`` (top-left pixel at ``origin``) softened to the sharpness of the frame within
        a face's size around the box, the faces and their edges left out, or to
        ``MAX_REFERENCE`` where that is sharper or where the surroundings are flat or hidden
        (:func:`soften_to`)."""
        height, width = grey.shape
        x1, y1, x2, y2 = box_corners(tracked.box, height, width)
        rx1, ry1, rx2, ry2 = context_window((x1, y1, x2, y2), height, width, *RINGS[0][:2])
        reference = MAX_REFERENCE  # a filmed face is no sharper, whatever is around it
        if np.count_nonzero(mask[ry1:ry2, rx1:rx2]) >= 64:  # enough seen around it
            around = sharpness(grey[ry1:ry2, rx1:rx2], mask[ry1:ry2, rx1:rx2])
            if around > 0:  # 0: flat around it (a wall, a gradient), nothing to match but the cap
                reference = min(around, MAX_REFERENCE)
        inner = (x1 - origin[0], y1 - origin[1], x2 - origin[0], y2 - origin[1])
        patch, sigma = soften_to(patch, inner, reference)
        self.counts['softened'] += sigma > 0
        return patch

    def _surroundings(self, frame: np.ndarray, boxes: Sequence[TrackedBox]):
        """The frame's grey pixels and the mask of those around the faces: all but the boxes
        (smoothed and given) and a margin around them, which hold the mosaic and its edge (what
        registration and the sharpness of the surroundings may use); ``(None, None)`` without
        boxes."""
        if not boxes:
            return None, None
        height, width = frame.shape[:2]
        mask = np.full((height, width), 255, np.uint8)
        for tracked in boxes:
            for box in (tracked.box, tracked.raw):
                if box is not None:
                    x1, y1, x2, y2 = box_corners(box, height, width)
                    mask[max(y1 - MASK_MARGIN, 0):y2 + MASK_MARGIN,
                         max(x1 - MASK_MARGIN, 0):x2 + MASK_MARGIN] = 0
        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32), mask

    def _placement(self, key: _Key, tracked: TrackedBox, grey: Optional[np.ndarray],
                   mask: Optional[np.ndarray], blocks: Optional[MosaicSamples] = None,
                   count: bool = True) -> np.ndarray:
        """Where the key goes in this frame: the registration of the first of its rings that
        is a similarity and fits the mosaic (see ``MOSAIC_SLACK``), else the key's placement by
        the mosaic (:meth:`_mosaic_fit`). Where the key or this frame has no mosaic grid: the
        first registration agreeing with the given box (see ``AGREEMENT``), else the smoothed
        box's centre (each start: that centre and the track's scale path, :func:`_scale`).

        The surroundings move with the face when the camera moves; when the face moves against
        them (a still camera), a wide ring's registration stays behind, and the head close
        around the face, where it is flat (a wall behind the face, dark hair), keeps a part of
        the still background: registered, it lagged by up to 9 px on a tuning video, and a
        box within a pixel of it let it pass. The mosaic moves with the face: its blocks are
        the face sampled on a grid cut in the given box.
        """
        by_box = box_transform(key.box, tracked.box, uniform=True, scale=_scale(key, tracked))
        fitted = self._mosaic_fit(key, blocks, by_box)
        if fitted is not None:
            placement, misfit = fitted
            least = misfit(placement)
            for (ring, ring_origin, motion), slack in zip(key.rings, MOSAIC_SLACK):
                found = register(ring, ring_origin, grey, mask, by_box, motion)
                # no scale check against the boxes here: the mosaic judges, and the localiser's
                # boxes' scale is a block off now and then (tuning, 14 moving-camera videos with
                # its boxes: with the check, flicker summed 26.0 against 22.9)
                if (found is not None and _is_similarity(found)
                        and misfit(found) <= (1 + slack) * least + MOSAIC_NOISE):
                    self.counts['registered'] += count
                    return found
            self.counts['mosaic_placed'] += count
            return placement
        given_box = tracked.raw if tracked.raw is not None else tracked.box
        given = box_transform(key.box, given_box, uniform=True)
        kx, ky, kw, kh = key.box[:4]
        gw, gh = given_box[2:4]
        centre = np.array([kx + kw / 2 - 0.5, ky + kh / 2 - 0.5, 1.0])
        for ring, ring_origin, motion in key.rings:  # none without registration
            found = register(ring, ring_origin, grey, mask, by_box, motion)
            if found is None or not _is_similarity(found):
                continue
            apart = np.abs(found @ centre - given @ centre)[:2]
            moved = np.sqrt(np.linalg.det(found[:2, :2]))
            # a box edge grown into the surroundings (the localiser's boxes grow by a block on
            # some frames, the key's with them) moves the box's centre by half the growth
            grown = 0.5 * np.abs(np.array([gw - moved * kw, gh - moved * kh]))
            scale = moved / by_box[0, 0]
            if ((apart <= AGREEMENT + 2.5 * tracked.jitter + grown).all()
                    and abs(scale - 1) <= MAX_SCALE):
                self.counts['registered'] += count
                return found
        self.counts['box_placed'] += count
        return by_box

    @staticmethod
    def _mosaic_fit(key: _Key, found: Optional[MosaicSamples], start: np.ndarray):
        """The key's placement by its mosaic: ``start`` moved by the translation (searched
        ``MOSAIC_SEARCH``) that makes the key's mosaic, sampled where this frame's blocks were,
        match them best; and the misfit of any placement (mean squared difference, each channel's
        mean difference left out: the light changes). ``None`` where the key or the given box
        holds no mosaic grid.

        The key's mosaic is its blocks interpolated (cubic), not its restoration: the generator
        does not redraw its own input's blocks exactly (tuning: a key placed by its
        restoration's blocks was 1.2 px off on its own frame)."""
        if key.mosaic is None or found is None:
            return None
        model, (ox, oy), _ = key.mosaic
        xs, ys = np.meshgrid(found.xs, found.ys)
        points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])  # frame px, 3 x n
        to_model = _translation(-ox, -oy)

        def misfits(placements: np.ndarray) -> np.ndarray:  # k x 3 x 3, the key's frame to this
            at = to_model @ np.linalg.inv(placements) @ points  # k x 3 x n, in the model
            grid = (-1, *xs.shape)
            sampled = _sample(model, at[:, 0].reshape(grid), at[:, 1].reshape(grid))
            difference = found.values[None] - sampled
            difference -= difference.mean(axis=(1, 2), keepdims=True)
            return (difference ** 2).reshape(len(placements), -1).mean(axis=1)

        def shifted(shifts: np.ndarray) -> np.ndarray:  # k x 2 translations after start
            moves = np.tile(np.eye(3), (len(shifts), 1, 1))
            moves[:, :2, 2] = shifts
            return moves @ start

        reach, coarse, fine = MOSAIC_SEARCH
        best = np.zeros(2)
        for span, step, rounds in ((reach, coarse, MOSAIC_ROUNDS), (coarse, fine, 1)):
            offsets = np.arange(-span, span + step / 2, step)
            for _ in range(rounds):  # again around a best on the edge (a box lagging the face)
                centre = best
                shifts = centre + np.stack(np.meshgrid(offsets, offsets), -1).reshape(-1, 2)
                best = shifts[int(np.argmin(misfits(shifted(shifts))))]
                if (np.abs(best - centre) < span - step / 2).all():
                    break

        def misfit(placement: np.ndarray) -> float:
            return float(misfits(placement[None])[0])

        return _translation(*best) @ start, misfit

    def _render(self, key: _Key, placement: np.ndarray, corners: tuple,
                shift: np.ndarray) -> np.ndarray:
        return warp_patch(key.patch, key.origin, placement, corners) + shift

    def _paste(self, out: np.ndarray, frame: np.ndarray, tracked: TrackedBox,
               state: _TrackState, grey: Optional[np.ndarray],
               mask: Optional[np.ndarray]) -> None:
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
        corners = (x1, y1, x2, y2)
        blocks = None  # this frame's mosaic, at the key's pitch where its blocks fill the box
        if state.key.mosaic is not None and tracked.raw is not None:
            blocks = frame_mosaic(frame, tracked.raw, state.key.mosaic[2])
        face = self._render(state.key, self._placement(state.key, tracked, grey, mask, blocks),
                            corners, shift)
        if state.fading is not None:
            state.fade_step += 1
            weight = state.fade_step / (self.fade + 1)
            placement = self._placement(state.fading, tracked, grey, mask, blocks, count=False)
            old = self._render(state.fading, placement, corners, mean - state.fading.mean)
            face = weight * face + (1 - weight) * old
            if state.fade_step >= self.fade:
                state.fading = None
        out[y1:y2, x1:x2] = np.clip(np.rint(face), 0, 255).astype(np.uint8)
        self.pasted.append((x1, y1, x2, y2))


__all__ = ['TrackStableRestorer', 'box_signature', 'box_transform', 'register', 'sharpness',
           'signature_change', 'signatures', 'soften_to', 'warp_box', 'warp_patch']
