"""RandomPixelate: each style against an independent pixelation, ranges, pair consistency."""
import os.path as osp

import numpy as np
import pytest

from rdid_mm.datasets.transforms.random_pixelate import RandomPixelate, grid_pixelate
from rdid_mm.deid.pixelate import pixelate_region
from rdid_mm.engine import register_all_modules
from rdid_mm.registry import TRANSFORMS


@pytest.fixture
def crop():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    return dict(img_gt=gt, img_mosaic=gt.copy(), face_boxes=[[20, 10, 45, 50]])


def test_builder_style_equals_the_builder(crop):
    np.random.seed(3)
    t = RandomPixelate(styles=('builder', ), box_scale_range=(1, 1), jpeg_prob=0,
                       block_range=(8, 8))
    out = t(dict(crop))
    expected = crop['img_gt'].copy()
    expected[10:60, 20:65] = pixelate_region(crop['img_gt'][10:60, 20:65], 8)
    np.testing.assert_array_equal(out['img_mosaic'], expected)
    np.testing.assert_array_equal(out['img_gt'], crop['img_gt'])
    assert out['strength'] == 8 and out['jpeg_quality'] == 0


def test_sample_style_equals_deface():
    """deface --replacewith mosaic on a box [x1, x2] x [y1, y2] (inclusive), grid at the corner."""
    from deface.deface import draw_det
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    x1, y1, x2, y2 = 13, 9, 101, 77
    drawn = frame.copy()
    draw_det(drawn, 1.0, 0, x1, y1, x2, y2, replacewith='mosaic', mosaicsize=20)
    ours = frame.copy()
    ours[y1:y2 + 1, x1:x2 + 1] = grid_pixelate(frame[y1:y2 + 1, x1:x2 + 1], 20, (0, 0), 'sample')
    np.testing.assert_array_equal(ours, drawn)


def test_mean_style_with_offset_is_block_means():
    rng = np.random.default_rng(2)
    region = rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    out = grid_pixelate(region, 8, (3, 5), 'mean')
    col_edges = [0, 3, 11, 19, 27, 35, 41]
    row_edges = [0, 5, 13, 21, 29, 30]
    for r0, r1 in zip(row_edges[:-1], row_edges[1:]):
        for c0, c1 in zip(col_edges[:-1], col_edges[1:]):
            block = region[r0:r1, c0:c1].reshape(-1, 3).astype(float)
            expected = np.floor(block.mean(axis=0) + 0.5)
            assert (out[r0:r1, c0:c1] == expected.astype(np.uint8)).all()


def test_draws_from_the_ranges_and_is_found_by_the_localiser(crop, sample_img_dir):
    from rdid_mm.restore import locate_mosaics
    t = RandomPixelate(block_range=(4, 32), jpeg_quality_range=(60, 95), jpeg_prob=0.5)
    np.random.seed(0)
    seen = dict(strength=set(), pixelate_style=set(), jpeg_quality=set())
    for _ in range(60):
        out = t(dict(crop))
        for key in seen:
            seen[key].add(out[key])
        assert 4 <= out['strength'] <= 32
        assert out['jpeg_quality'] == 0 or 60 <= out['jpeg_quality'] <= 95
        if out['jpeg_quality'] == 0:
            outside = np.ones(crop['img_gt'].shape[:2], bool)
            outside[0:76, 5:80] = False  # the box grown by up to 1.6x
            np.testing.assert_array_equal(out['img_mosaic'][outside], crop['img_gt'][outside])
    assert seen['pixelate_style'] == {'builder', 'mean', 'sample'}
    assert len(seen['strength']) > 10 and 0 in seen['jpeg_quality']
    assert len(seen['jpeg_quality']) > 5
    np.random.seed(5)
    fixed = RandomPixelate(block_range=(9, 9), jpeg_prob=0, box_scale_range=(1, 1),
                           styles=('mean', ))
    import cv2
    photo = cv2.imread(osp.join(sample_img_dir, '000000040083.jpg'))[..., ::-1].copy()
    out = fixed(dict(img_gt=photo, img_mosaic=photo.copy(), face_boxes=[[60, 110, 72, 63]]))
    found = locate_mosaics(out['img_mosaic'])
    assert len(found) == 1 and abs(found[0].block_size - 9) <= 1
    assert abs(found[0].x - 60) <= 2 and abs(found[0].w - 72) <= 4


def test_built_from_a_config_and_bad_arguments():
    register_all_modules()
    t = TRANSFORMS.build(dict(type='RandomPixelate', block_range=(4, 16)))
    assert isinstance(t, RandomPixelate) and t.block_range == (4, 16)
    for bad in (dict(block_range=(0, 4)), dict(styles=('blur', )),
                dict(jpeg_quality_range=(50, 101)), dict(box_scale_range=(0, 1))):
        with pytest.raises(ValueError):
            RandomPixelate(**bad)
