"""The block grid of a mosaic inside its box, found without being told the strength."""
import math

import cv2
import numpy as np
import pytest

from rdid_mm.deid.pixelate import linear_taps, pixelate_region
from rdid_mm.restore.mosaic_grid import mosaic_samples


def face_like(width, height, seed=0, contrast=4.0):
    """Detail at a few pixels' scale and (``contrast`` 4) a face's contrast."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3)).astype(np.float32),
                               (0, 0), 2.0)
    return ((texture - texture.mean()) * contrast + 128).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize('width,height', [(70, 85), (41, 37), (64, 64)])
@pytest.mark.parametrize('strength', [4, 6, 8, 11])
def test_the_builder_grid_is_found_whatever_the_strength(width, height, strength):
    image = face_like(120, 120, seed=strength)
    x, y = 23, 17
    image[y:y + height, x:x + width] = pixelate_region(image[y:y + height, x:x + width], strength)
    noisy = image.astype(np.float32) + np.random.default_rng(1).normal(0, 0.8, image.shape)
    found = mosaic_samples(noisy, [x, y, width, height])
    across, down = math.ceil(width / strength), math.ceil(height / strength)
    assert found.values.shape == (down, across, 3)
    # the builder samples each block at one point: its linear taps' position
    for positions, size, count, origin in ((found.xs, width, across, x),
                                           (found.ys, height, down, y)):
        first, _, fraction, denominator = linear_taps(size, count)
        assert np.allclose(positions, origin + first + fraction / denominator, atol=1e-9)
    # the block values are the mosaic's (the codec's noise averaged out)
    rows, columns = np.floor(found.ys).astype(int), np.floor(found.xs).astype(int)
    assert np.abs(found.values - image[rows][:, columns]).max() < 1.5


def test_smooth_or_noisy_pixels_hold_no_grid():
    ramp = np.tile(np.linspace(40, 200, 70, dtype=np.float32), (80, 1))
    assert mosaic_samples(np.dstack([ramp] * 3), [0, 0, 70, 80]) is None
    assert mosaic_samples(face_like(70, 80), [0, 0, 70, 80]) is None
    noise = np.random.default_rng(2).integers(0, 256, (80, 70, 3)).astype(np.uint8)
    assert mosaic_samples(noise, [0, 0, 70, 80]) is None


@pytest.mark.parametrize('told', [False])
@pytest.mark.parametrize('axis', [0, 1])
@pytest.mark.parametrize('grown', [(0, 5), (5, 0), (3, 4)])
@pytest.mark.parametrize('width,height,strength', [(48, 56, 8), (71, 85, 8), (100, 120, 12)])
def test_an_axis_a_part_of_a_block_off_takes_a_pitch_where_the_blocks_are(
        grown, axis, told, width, height, strength):
    """A localiser box longer than the mosaic by a part of a block on one axis (into a neck,
    softer than a face; before it, after it or both): that axis finds no box-aligned grid; it
    takes the pitch it is told (a track's key) or about the other axis's (the builder's differ:
    11.1 px across and 12 down at strength 12 on 100 x 120), on the part the mosaic fills, and
    the blocks are sampled where the builder did (also the fractional 7.9 px of 71 px)."""
    image = face_like(150, 160, seed=3, contrast=1.0)
    x, y = 10, 10
    image[y:y + height, x:x + width] = pixelate_region(face_like(width, height, seed=4),
                                                       strength)
    across, down = math.ceil(width / strength), math.ceil(height / strength)
    before, after = grown
    box = ([x, y - before, width, height + before + after] if axis == 0 else
           [x - before, y, width + before + after, height])
    found = mosaic_samples(image, box, (width / across, height / down) if told else None)
    assert found.values.shape[:2] == (down, across)
    for positions, size, count, origin in ((found.xs, width, across, x),
                                           (found.ys, height, down, y)):
        first, _, fraction, denominator = linear_taps(size, count)
        assert np.allclose(positions, origin + first + fraction / denominator, atol=1e-9)
    rows, columns = np.floor(found.ys).astype(int), np.floor(found.xs).astype(int)
    assert np.abs(found.values - image[rows][:, columns]).max() < 1e-3


KNOWN = ('with the pitch told (a track key), a box 5 px longer than 7 rows of 8 px passes as '
         '8 rows (no count near the pitch is flat, the least of them sets the bar); judging '
         'them by the finest count fixes it but raised the tuning flicker with localiser boxes '
         '(in memory, still camera 50.35 -> 51.09, moving 22.71 -> 23.30)')


@pytest.mark.xfail(strict=True, reason=KNOWN)
def test_a_told_pitch_finds_the_blocks_of_a_box_a_part_of_a_block_longer():
    test_an_axis_a_part_of_a_block_off_takes_a_pitch_where_the_blocks_are(
        (5, 0), 0, True, 48, 56, 8)


def test_a_box_leaving_the_image_holds_no_grid():
    image = face_like(60, 60)
    assert mosaic_samples(image, [-3, 0, 40, 40]) is None
    assert mosaic_samples(image, [30, 30, 40, 40]) is None


def _direct_span_residuals(lines, pitch, spread):
    """:func:`span_residuals` by its definition, from the old double loop: each span's blocks
    (the builder's cut, from ``nearest_indices``), each row's mean in each block, the root mean
    square of the pixels' difference from them."""
    from rdid_mm.deid.pixelate import nearest_indices
    from rdid_mm.restore.mosaic_grid import MIN_BLOCK, MIN_BLOCKS
    size = lines.shape[1]
    reach = min(math.ceil(pitch), size)
    spans = []
    for start in range(reach):
        for stop in range(max(size - reach + 1, start + 1), size + 1):
            near = round((stop - start) / pitch)
            for count in range(near - spread, near + spread + 1):
                if count < MIN_BLOCKS or (stop - start) / count < MIN_BLOCK:
                    continue
                block = nearest_indices(stop - start, count)
                squared = sum(((part - part.mean(axis=1, keepdims=True)) ** 2).sum()
                              for part in (lines[:, start:stop][:, block == b]
                                           for b in range(count)))
                spans.append((math.sqrt(squared / lines[:, start:stop].size), start, stop, count))
    return spans


def _span_cases(seed):
    """Mosaics inside more of the box than their blocks (the builder's grid; noise or not; whole
    grey levels or not) and noise, with the pitch and spread the grid finder passes."""
    from rdid_mm.deid.pixelate import nearest_indices
    rng = np.random.default_rng(seed)
    for trial in range(8):
        rows, size = int(rng.integers(3, 40)), int(rng.integers(8, 90))
        count = int(rng.integers(2, size // 3 + 1))
        inner = size - int(rng.integers(0, size // count))
        offset = int(rng.integers(0, size - inner + 1))
        lines = np.full((rows, size), 128.0) + rng.normal(0, 3, (rows, size)) * (trial % 2)
        lines[:, offset:offset + inner] = rng.integers(0, 256, (rows, count))[
            :, nearest_indices(inner, count)]
        lines = np.round(lines) if trial % 4 == 0 else lines
        pitch = inner / count * float(rng.uniform(0.9, 1.1)) if trial < 6 else \
            float(rng.uniform(2, size / 2))
        yield lines, pitch, trial % 2


@pytest.mark.parametrize('seed', range(6))
def test_span_residuals_are_each_spans_block_residuals_computed_directly(seed):
    """The Gram-matrix sums give every span the old loop weighed, in its order, with its
    residual; and :func:`aligned_span` picks the flattest longest of them."""
    from rdid_mm.restore.mosaic_grid import RESIDUAL_SLACK, aligned_span, span_residuals
    for lines, pitch, spread in _span_cases(seed):
        found, direct = span_residuals(lines, pitch, spread), _direct_span_residuals(
            lines, pitch, spread)
        assert [s[1:] for s in found] == [s[1:] for s in direct]
        # the mean squares (their root multiplies float noise near 0: 1e-12 -> 1e-6)
        np.testing.assert_allclose([s[0] ** 2 for s in found], [s[0] ** 2 for s in direct],
                                   rtol=1e-9, atol=1e-9)
        rounded = [(round(s[0], 3), *s[1:]) for s in direct]
        limit = RESIDUAL_SLACK[0] * min(s[0] for s in rounded) + RESIDUAL_SLACK[1]
        best = max((s for s in rounded if s[0] <= limit), key=lambda s: (s[2] - s[1], -s[0]))
        assert aligned_span(lines, pitch, spread) == best[1:]


def test_a_flat_box_ties_and_takes_the_whole_box_in_the_fewest_blocks():
    """Every count explains a flat box (here with noise of 0.0002 grey, a codec's rounding far
    below anything seen): residuals within 0.001 grey tie, and the tie goes to the first start,
    then the fewest blocks, not to whichever count the noise favours."""
    from rdid_mm.restore.mosaic_grid import aligned_span, span_residuals
    lines = 52.5 + np.random.default_rng(0).normal(0, 2e-4, (70, 31))
    spans = span_residuals(lines, 5.86, 1)
    assert max(s[0] for s in spans) < 5e-4
    whole = [s for s in spans if s[1:3] == (0, 31)]
    assert [s[3] for s in whole] == [4, 5, 6] and min(whole)[3] != 4  # noise favours more blocks
    assert aligned_span(lines, 5.86, 1) == (0, 31, 4)
