"""FaceAwareCrop: the window holds the face, boxes follow the crop, small images are padded."""
import numpy as np
import pytest

from rdid_mm.datasets.transforms import FaceAwareCrop


def pair(height, width):
    img = np.arange(height * width * 3, dtype=np.uint32).reshape(height, width, 3) % 251
    return dict(img_mosaic=img.astype(np.uint8), img_gt=(255 - img).astype(np.uint8))


@pytest.mark.parametrize('seed', range(5))
def test_window_contains_the_face_box(seed):
    np.random.seed(seed)
    results = pair(100, 120)
    results['face_boxes'] = [[70.5, 10.2, 20.0, 15.0]]
    out = FaceAwareCrop(crop_size=32)(results)
    left, top, width, height = out['crop_bbox']
    assert (width, height) == (32, 32)
    assert left <= 70.5 and left + 32 >= 90.5 and top <= 10.2 and top + 32 >= 25.2
    assert out['face_boxes'] == [pytest.approx([70.5 - left, 10.2 - top, 20.0, 15.0])]
    source = pair(100, 120)
    assert np.array_equal(out['img_mosaic'], source['img_mosaic'][top:top + 32, left:left + 32])
    assert np.array_equal(out['img_gt'], source['img_gt'][top:top + 32, left:left + 32])
    assert out['img_shape'] == (32, 32)


def test_box_larger_than_the_window_is_centred_and_clipped():
    results = pair(100, 100)
    results['face_boxes'] = [[10, 10, 60, 60]]
    out = FaceAwareCrop(crop_size=(20, 20))(results)
    assert out['crop_bbox'] == [30, 30, 20, 20]
    assert out['face_boxes'] == [[0.0, 0.0, 20.0, 20.0]]


def test_small_image_is_padded_by_reflection():
    results = pair(10, 12)
    results['face_boxes'] = [[2, 2, 4, 4]]
    out = FaceAwareCrop(crop_size=16)(results)
    assert out['img_mosaic'].shape == out['img_gt'].shape == (16, 16, 3)
    assert np.array_equal(out['img_mosaic'][:10, :12], pair(10, 12)['img_mosaic'])
    assert np.array_equal(out['img_mosaic'][10], out['img_mosaic'][8])  # reflect-101


def test_no_face_gives_a_uniform_window_and_mismatch_is_refused():
    np.random.seed(0)
    out = FaceAwareCrop(crop_size=8)(pair(20, 20))
    assert out['img_mosaic'].shape == (8, 8, 3) and out['face_boxes'] == []
    results = pair(20, 20)
    results['img_gt'] = results['img_gt'][:10]
    with pytest.raises(ValueError, match='same size'):
        FaceAwareCrop(crop_size=8)(results)
