"""A mosaic's blocks inside its box: the block values and the frame points they were sampled at.

A box pixelated by the builder (:func:`rdid_mm.deid.pixelate.pixelate_region`) holds ``n`` blocks
across, cut from the box's corner (``nearest_indices``), each the face sampled at one point
(``linear_taps``). The block count is not told (the strength is the video maker's): along each
axis it is the coarsest count whose blocks are flat (pixels within ``RESIDUAL_SLACK`` of the
finest count's residual from their block's mean) and flatter than the counts one coarser and one
finer. A mosaic's grid cut one block off is as rough as the face (tuning: 0.6-1.0 grey levels on
the grid, 4-12 one block off); smooth surroundings get flatter with every block added and have
no such minimum. An axis without one (a localiser box a part of a block off the mosaic's), or
whose blocks are not about square with the other's (``SQUARE``; the finer of the two: a grid
of a third of the blocks' size explains a mosaic too), takes the other axis's block pitch, on
the part of the box the blocks fill (:func:`aligned_span`): a box grown 5 px into a neck holds
the mosaic's 7 rows and 5 px of neck, not 8 rows of 7.6 px.

A grid found so is taken 3 or 2 times coarser where that grid is flatter and distinct
(:func:`_coarser_grid`): in a box a pixel or two larger than the mosaic, a grid of half the
mosaic's pitch can pass as flat.

Told the pitch (a track's later frames: its key's; the video's strength does not change), both
axes take the span the blocks fill (:func:`aligned_span`), not a grid cut from the given box's
edges: the localiser's box is a block or a pixel off the mosaic on about one face-frame in three,
and a grid cut from it mixes every block's pixels with its neighbour's and moves their sample
points (tuning, still camera, the localiser's boxes: flicker summed 44.46 -> 39.54; with the
distinct count and the coarser key grid, 39.71; docs/restore.md, "The grids along a track").
Each axis's count must still be a minimum (flatter than one block more or fewer on its span), so
a box that holds no mosaic holds no grid. A flat strip of the surroundings about a block wide
still passes as one more block.

Where the face moves against still surroundings (a still camera), the registration of the
surroundings fails and whole-pixel boxes are half a pixel off; the mosaic moves with the face
(:mod:`.track_restore` places a key by it).
"""
from functools import lru_cache
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from rdid_mm.deid.pixelate import nearest_indices

#: a block count explains an axis when its pixels are at most this much (times the finest
#: count's, plus a grey level's half for the codec) from their block's mean
RESIDUAL_SLACK = (1.5, 0.5)
SQUARE = (0.75, 1.33)  # the blocks' width over their height, for both axes' counts to stand
MIN_BLOCK = 2  # px: no finer block counts are tried
MIN_BLOCKS = 2  # per axis
#: a key's grid taken these times coarser (:func:`_coarser_grid`), the coarser first, where the
#: coarser grid's blocks are at least ``MIN_COARSER`` times as large
COARSER = (3, 2)
MIN_COARSER = 1.5


class MosaicSamples(NamedTuple):
    """The block values (``ny x nx x C`` float32, the image's channels) and the frame points
    they were sampled at (``xs``: ``nx``, ``ys``: ``ny``; pixel centres at whole numbers)."""
    values: np.ndarray
    xs: np.ndarray
    ys: np.ndarray


def block_starts(size: int, count: int) -> np.ndarray:
    """The first pixel of each of the builder's ``count`` blocks across ``size`` pixels
    (:func:`~rdid_mm.deid.pixelate.nearest_indices`)."""
    return np.flatnonzero(np.diff(nearest_indices(size, count), prepend=-1))


@lru_cache(maxsize=4096)
def _block_edges(size: int, count: int) -> np.ndarray:
    """:func:`block_starts` and ``size``, read-only and kept: a track's every frame weighs the
    same few hundred spans (:func:`span_residuals`)."""
    edges = np.append(block_starts(size, count), size)
    edges.flags.writeable = False
    return edges


def block_residuals(grey: np.ndarray, axis: int) -> dict:
    """``{n: mean absolute difference of the pixels from their block's mean}`` for the
    box-aligned ``n``-block grids along ``axis`` (0: rows, 1: columns) of ``grey``: every count
    from ``MIN_BLOCKS`` to blocks of ``MIN_BLOCK`` px."""
    lines = np.moveaxis(np.asarray(grey, np.float64), axis, -1)
    size = lines.shape[-1]
    counts = range(MIN_BLOCKS, size // MIN_BLOCK + 1)
    found = {}
    for count in counts:
        starts = block_starts(size, count)
        widths = np.diff(np.append(starts, size))
        means = np.add.reduceat(lines, starts, axis=-1) / widths
        found[count] = float(np.abs(lines - np.repeat(means, widths, axis=-1)).mean())
    return found


def block_count(residuals: dict) -> Optional[Tuple[int, float]]:
    """The coarsest block count that explains an axis, if it is flatter than its neighbours
    (see the module), and its residual; else ``None``."""
    if not residuals:
        return None
    factor, slack = RESIDUAL_SLACK
    limit = factor * min(residuals.values()) + slack
    for count in sorted(residuals):
        value = residuals[count]
        if value > limit:
            continue
        neighbours = [residuals[c] for c in (count - 1, count + 1) if c in residuals]
        return (count, value) if neighbours and value < min(neighbours) else None
    return None


def span_residuals(lines: np.ndarray, pitch: float,
                   spread: int = 0) -> List[Tuple[float, int, int, int]]:
    """``(rms, start, stop, count)`` of every span :func:`aligned_span` weighs, in order of
    start, stop and count: the root mean square difference of the pixels of ``lines`` (rows x
    size) from their row's mean in each of the span's ``count`` box-aligned blocks
    (:func:`_span_rms`)."""
    return _spans(_span_rms(lines), np.shape(lines)[-1], pitch, spread)


def _spans(rms: Callable[[np.ndarray, int, int], np.ndarray], size: int, pitch: float,
           spread: int) -> List[Tuple[float, int, int, int]]:
    """:func:`span_residuals` with the residuals' function ``rms`` (:func:`_span_rms`) made."""
    reach = min(int(np.ceil(pitch)), size)
    spans = []
    # every start within a block of the box's first pixel and stop within a block of its last;
    # the spans of one length and block count at once (their blocks are the same, shifted)
    for length in range(1, size + 1):
        starts = np.arange(max(size - reach + 1 - length, 0), min(reach - 1, size - length) + 1)
        near = int(round(length / pitch))
        for count in range(near - spread, near + spread + 1):
            if len(starts) == 0 or count < MIN_BLOCKS or length / count < MIN_BLOCK:
                continue
            spans += [(float(r), int(start), int(start) + length, count)
                      for r, start in zip(rms(starts, length, count), starts)]
    return sorted(spans, key=lambda s: s[1:])


def _span_rms(lines: np.ndarray) -> Callable[[np.ndarray, int, int], np.ndarray]:
    """A function of ``(starts, length, count)``: the residual (:func:`span_residuals`) of the
    spans of ``length`` pixels from each of ``starts`` along the last axis of ``lines``, in
    ``count`` blocks.

    Each span's squared residual comes from the rows' cumulative sums and their Gram matrix (a
    block's ``sum over rows of (its row sums) ** 2`` is three of its entries), so a span costs
    its block count, not the face's pixels: on a 300 x 360 face at 40 px blocks, 8 ms where the
    direct sums took 81 ms (one thread of this project's CPU; docs/restore.md). The Gram matrix
    holds ``(size + 1) ** 2`` entries: 32 MB for a 2000 px face."""
    lines = np.asarray(lines, np.float64)
    size = lines.shape[-1]
    lines = lines.reshape(-1, size)
    lines = lines - lines.mean()  # the residuals are the same; the sums smaller, less rounding
    sums = np.concatenate([np.zeros((len(lines), 1)), np.cumsum(lines, -1)], -1)
    squares = np.concatenate([[0.0], np.cumsum((lines ** 2).sum(axis=0))])
    gram = sums.T @ sums

    def rms(starts: np.ndarray, length: int, count: int) -> np.ndarray:
        edges = starts[:, None] + _block_edges(length, count)
        first, last = edges[:, :-1], edges[:, 1:]
        explained = ((gram[last, last] + gram[first, first] - 2 * gram[first, last])
                     / (last - first)).sum(axis=1)
        error = squares[starts + length] - squares[starts] - explained
        return np.sqrt(np.maximum(error, 0.0) / (len(lines) * length))
    return rms


def aligned_span(lines: np.ndarray, pitch: float, spread: int = 0,
                 distinct: bool = False) -> Optional[Tuple[int, int, int]]:
    """``(start, stop, count)``: the part of the last axis of ``lines`` (rows x size, grey) that
    a box-aligned grid of blocks of about ``pitch`` fills, its edges within a block of the
    box's: of the spans whose grid is flattest (:func:`span_residuals`, within
    ``RESIDUAL_SLACK`` of the least), the longest. ``spread``: block counts that many either
    side of the span's length over ``pitch`` are tried too (the builder's pitch is
    ``size / ceil(size / S)``: a pitch taken from the other axis, 11.1 px across and 12 down at
    strength 12 on a 100 x 120 face, or from another frame, 8.0 px at 80 px and 7.36 at 81).
    ``distinct``: the span's blocks must be flatter than one block more and one fewer on the
    same span, as :func:`block_count` asks of a box's (smooth surroundings and noise get
    flatter with every block added; a mosaic's grid is a minimum). ``None`` where the axis is
    shorter than ``MIN_BLOCKS`` blocks, or its span is not distinct.

    Residuals within a thousandth of a grey level tie (the Gram matrix's rounding is far below
    it), and a tie goes to the first start, then the fewest blocks: on a flat box every count
    explains the pixels (the direct sums, before, let float noise pick one)."""
    rms = _span_rms(lines)
    spans = [(round(residual, 3), start, stop, count)
             for residual, start, stop, count in _spans(rms, np.shape(lines)[-1], pitch, spread)]
    if not spans:
        return None
    factor, slack = RESIDUAL_SLACK
    limit = factor * min(s[0] for s in spans) + slack
    residual, start, stop, count = max((s for s in spans if s[0] <= limit),
                                       key=lambda s: (s[2] - s[1], -s[0]))
    if distinct:
        length = stop - start
        neighbours = [round(float(rms(np.array([start]), length, c)[0]), 3)
                      for c in (count - 1, count + 1)
                      if c >= MIN_BLOCKS and length / c >= MIN_BLOCK]
        if not neighbours or residual >= min(neighbours):
            return None
    return start, stop, count


def mosaic_samples(image: np.ndarray, box: Sequence[float],
                   pitch: Optional[Tuple[float, float]] = None,
                   convert: Optional[Callable[[np.ndarray], np.ndarray]] = None,
                   ) -> Optional[MosaicSamples]:
    """The blocks of the mosaic in ``box`` (``[x, y, w, h]``, rounded to whole pixels) of
    ``image`` (``H x W x C`` or ``H x W``), on the builder's grid; ``None`` where the box leaves
    the image or holds no such grid (see the module). ``pitch``: the blocks' width and height
    found before (a track's key), each axis's blocks are where blocks of about that size fill
    it, and ``None`` where either axis's are no flatter than one block more or fewer
    (:func:`aligned_span`, ``distinct``); ``convert``: applied to the box's pixels (float32)
    first (a colour space)."""
    x, y, w, h = (int(round(float(v))) for v in box[:4])
    if x < 0 or y < 0 or x + w > image.shape[1] or y + h > image.shape[0]:
        return None
    if min(w, h) < MIN_BLOCKS * MIN_BLOCK:
        return None
    region = image[y:y + h, x:x + w].astype(np.float32)
    if convert is not None:
        region = convert(region)
    region = region.reshape(h, w, -1)
    grey = region.mean(axis=2)
    if pitch is not None:  # each axis where blocks of about the told size are (see the module)
        spans = [aligned_span(lines, told, spread=1, distinct=True)
                 for lines, told in ((grey, pitch[0]), (grey.T, pitch[1]))]
    else:
        spans = _box_grid(grey)
        if spans is not None and None not in spans:
            spans = _coarser_grid(grey, spans)
    if spans is None or None in spans:
        return None
    (x1, x2, across), (y1, y2, down) = spans
    values = _block_means(region[y1:y2, x1:x2], block_starts(y2 - y1, down),
                          block_starts(x2 - x1, across))
    xs = x + x1 + ((2 * np.arange(across) + 1) * (x2 - x1) - across) / (2 * across)
    ys = y + y1 + ((2 * np.arange(down) + 1) * (y2 - y1) - down) / (2 * down)
    return MosaicSamples(values, xs, ys)


def _box_grid(grey: np.ndarray) -> Optional[List[Optional[Tuple[int, int, int]]]]:
    """``[(x1, x2, across), (y1, y2, down)]``: each axis's block count cut from the box's edges
    and, for an axis without one, the span its blocks fill (see the module); ``None`` where
    neither axis has a count."""
    h, w = grey.shape
    across = block_count(block_residuals(grey, 1))
    down = block_count(block_residuals(grey, 0))
    if across is None and down is None:
        return None
    if across is not None and down is not None:
        low, high = SQUARE
        if not low <= (w / across[0]) / (h / down[0]) <= high:
            across, down = (across, None) if w / across[0] >= h / down[0] else (None, down)
    across, down = (None if found is None else found[0] for found in (across, down))
    spans = [(0, w, across), (0, h, down)]
    # an axis without a count: where its blocks are, about the other axis's pitch (square
    # blocks)
    if across is None:
        spans[0] = aligned_span(grey, h / down, spread=1)
    elif down is None:
        spans[1] = aligned_span(grey.T, w / across, spread=1)
    return spans


def _coarser_grid(grey: np.ndarray,
                  spans: List[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """``spans`` (each axis's ``(start, stop, count)``), or the spans of blocks ``COARSER``
    times as large on both axes where those are distinct (:func:`aligned_span`), flatter, and
    cover at least the fine grid's span less one of its blocks: in a box a pixel or two larger
    than the mosaic no grid cut from its edges is flat, and one of half the pitch can pass
    (tuning: coffee's second face, 19 x 23 blocks of 3.3 px for 8 x 10 of 7.6; a later frame told
    that pitch finds no distinct grid). Flatter, not only about as flat: a mosaic's own grid
    under heavy noise has 2 x 2 blocks about as flat (3 of 98 noisy, low-contrast faces)."""
    rough = _grid_rms(grey, spans)
    for times in COARSER:
        coarser = [aligned_span(lines, times * (stop - start) / count, spread=1, distinct=True)
                   for lines, (start, stop, count) in zip((grey, grey.T), spans)]
        if None in coarser or _grid_rms(grey, coarser) >= rough:
            continue
        if all(new_stop - new_start >= stop - start - (stop - start) / count
               and (new_stop - new_start) / new_count >= MIN_COARSER * (stop - start) / count
               for (new_start, new_stop, new_count), (start, stop, count) in zip(coarser, spans)):
            return coarser
    return spans


def _grid_rms(grey: np.ndarray, spans: List[Tuple[int, int, int]]) -> float:
    """The root mean square difference of ``grey``'s pixels from their block's mean on the
    grid of ``spans``, over the part it fills."""
    (x1, x2, across), (y1, y2, down) = spans
    part = grey[y1:y2, x1:x2]
    means = _block_means(part[..., None], block_starts(y2 - y1, down),
                         block_starts(x2 - x1, across))[..., 0]
    heights, widths = np.diff(_block_edges(y2 - y1, down)), np.diff(_block_edges(x2 - x1, across))
    flat = np.repeat(np.repeat(means, heights, axis=0), widths, axis=1)
    return float(np.sqrt(((part - flat) ** 2).mean()))


def _block_means(region: np.ndarray, row_starts: np.ndarray,
                 column_starts: np.ndarray) -> np.ndarray:
    sums = np.add.reduceat(np.add.reduceat(region, row_starts, axis=0), column_starts, axis=1)
    heights = np.diff(np.append(row_starts, region.shape[0]))
    widths = np.diff(np.append(column_starts, region.shape[1]))
    return (sums / np.outer(heights, widths)[..., None]).astype(np.float32)


__all__ = ['MosaicSamples', 'aligned_span', 'block_count', 'block_residuals', 'mosaic_samples',
           'span_residuals']
