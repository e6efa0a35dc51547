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


def test_an_axis_a_block_off_the_mosaic_takes_the_other_axis_pitch():
    """A localiser box 5 px taller than the mosaic (into a neck, softer than a face): the rows
    find no grid of square blocks, the columns' 8 px pitch is taken for them."""
    image = face_like(100, 120, seed=3, contrast=1.0)
    image[10:66, 10:58] = pixelate_region(face_like(48, 56, seed=4), 8)
    found = mosaic_samples(image, [10, 10, 48, 61])
    assert found.values.shape[:2] == (round(61 / 8), 6)


def test_a_box_leaving_the_image_holds_no_grid():
    image = face_like(60, 60)
    assert mosaic_samples(image, [-3, 0, 40, 40]) is None
    assert mosaic_samples(image, [30, 30, 40, 40]) is None
