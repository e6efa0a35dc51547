"""Pixelation against the independent reference, and the registered ``Pixelate`` transform."""
import numpy as np
import pytest

from rdid_mm.deid.pixelate import Pixelate, pixelate_boxes, pixelate_region

from tests.deid.reference import pixelate_reference


@pytest.mark.parametrize('seed', range(6))
def test_pixelate_region_equals_reference_on_random_sizes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(1, 48, 2))
        strength = int(rng.integers(1, 20))
        region = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        np.testing.assert_array_equal(pixelate_region(region, strength),
                                      pixelate_reference(region, strength),
                                      err_msg=f'{w}x{h} at strength {strength}')


def test_pixelate_region_gray_and_exact_blocks():
    rng = np.random.default_rng(7)
    gray = rng.integers(0, 256, (13, 29), dtype=np.uint8)
    np.testing.assert_array_equal(pixelate_region(gray, 4), pixelate_reference(gray, 4))
    # a region that is a multiple of S is made of S x S blocks, each one colour
    region = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    out = pixelate_region(region, 8)
    blocks = out.reshape(2, 8, 3, 8, 3)
    assert (blocks == blocks[:, :1, :, :1, :]).all()
    assert len(np.unique(out.reshape(-1, 3), axis=0)) <= 6


def test_strength_one_is_identity_and_bigger_than_region_is_one_block():
    rng = np.random.default_rng(3)
    region = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    np.testing.assert_array_equal(pixelate_region(region, 1), region)
    one_block = pixelate_region(region, 64)
    assert (one_block == one_block[0, 0]).all()
    np.testing.assert_array_equal(one_block, pixelate_reference(region, 64))
    with pytest.raises(ValueError, match='strength'):
        pixelate_region(region, 0)


def test_pixelate_boxes_touches_only_the_boxes():
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    boxes = [(5, 7, 30, 26), (50.4, 30.2, 79.6, 59.9), (70, 50, 200, 200)]
    out = pixelate_boxes(image, boxes, 6)
    inside = np.zeros(image.shape[:2], bool)
    for (x1, y1, x2, y2) in [(5, 7, 30, 26), (50, 30, 80, 60), (70, 50, 80, 60)]:
        inside[y1:y2, x1:x2] = True
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[7:26, 5:30], pixelate_reference(image[7:26, 5:30], 6))
    assert not (out[7:26, 5:30] == image[7:26, 5:30]).all()
    # the input is not modified
    assert image is not out and (pixelate_boxes(image, [], 6) == image).all()


def test_pixelate_transform_from_registry():
    from rdid_mm.registry import TRANSFORMS
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    transform = TRANSFORMS.build(dict(type='Pixelate', keys='img', strength=4,
                                      output_keys='img_mosaic'))
    assert isinstance(transform, Pixelate)
    results = transform(dict(img=image.copy(), face_boxes=[[10, 5, 20, 16]]))
    np.testing.assert_array_equal(results['img'], image)
    expected = image.copy()
    expected[5:21, 10:30] = pixelate_reference(image[5:21, 10:30], 4)
    np.testing.assert_array_equal(results['img_mosaic'], expected)
    assert results['strength'] == 4
    xyxy = Pixelate(strength=4, box_format='xyxy')(dict(img=image.copy(),
                                                         face_boxes=[[10, 5, 30, 21]]))
    np.testing.assert_array_equal(xyxy['img'], expected)
    assert 'strength=4' in repr(transform)


@pytest.mark.parametrize('kwargs', [dict(strength=0), dict(strength=2.5), dict(box_format='cxcy'),
                                    dict(keys=('a', 'b'), output_keys='c')])
def test_pixelate_transform_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        Pixelate(**kwargs)
