"""Reading images: the EXIF rule, conversions to 8-bit RGB, and each kind of bad file."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from rdid_mm.utils.io import ImageReadError, encode_image, read_image


def _save(path, image, **kwargs):
    image.save(path, **kwargs)
    return str(path)


def test_reads_a_sample_jpeg_as_stored(sample_img_dir):
    decoded = read_image(f'{sample_img_dir}/000000000785.jpg', expected_size=(640, 425))
    assert decoded.rgb.shape == (425, 640, 3) and decoded.rgb.dtype == np.uint8
    assert decoded.mode == 'RGB' and decoded.orientation == 1


@pytest.mark.parametrize('mode', ['L', 'LA', 'RGBA', 'P', 'CMYK', '1', 'I;16', 'I'])
def test_modes_become_8_bit_rgb(tmp_path, mode):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    base = Image.fromarray(rgb)
    if mode == 'I;16':
        image = Image.fromarray((rgb[..., 0].astype(np.uint16) * 257))
    elif mode == 'I':
        image = Image.fromarray(rgb[..., 0].astype(np.int32) * 257)
    else:
        image = base.convert(mode)
    path = _save(tmp_path / ('x.tif' if mode in ('CMYK', 'I') else 'x.png'), image)
    decoded = read_image(path, expected_size=(10, 12))
    assert decoded.rgb.shape == (12, 10, 3) and decoded.rgb.dtype == np.uint8
    if mode in ('L', 'LA', 'I;16', 'I'):
        expected = rgb[..., 0] if mode in ('I;16', 'I') else np.asarray(base.convert('L'))
        for c in range(3):
            np.testing.assert_array_equal(decoded.rgb[..., c], expected)
    if mode == 'RGBA':
        np.testing.assert_array_equal(decoded.rgb, rgb)


def test_exif_orientation_is_not_applied(tmp_path):
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    path = _save(tmp_path / 'rotated.jpg', Image.fromarray(rgb), exif=exif, quality=95)
    decoded = read_image(path, expected_size=(40, 20))
    assert decoded.orientation == 6 and decoded.rgb.shape == (20, 40, 3)
    # OpenCV's default read would have rotated it
    assert cv2.imread(path).shape == (40, 20, 3)
    with pytest.raises(ImageReadError) as err:
        read_image(path, expected_size=(20, 40))
    assert err.value.reason == 'size_mismatch' and 'EXIF orientation 6' in str(err.value)


def test_missing_unreadable_truncated(tmp_path, sample_img_dir):
    with pytest.raises(ImageReadError) as err:
        read_image(str(tmp_path / 'nope.jpg'))
    assert err.value.reason == 'missing' and 'nope.jpg' in str(err.value)

    text = tmp_path / 'text.jpg'
    text.write_text('not an image')
    with pytest.raises(ImageReadError) as err:
        read_image(str(text))
    assert err.value.reason == 'unreadable' and 'text.jpg' in str(err.value)

    data = open(f'{sample_img_dir}/000000000785.jpg', 'rb').read()
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(ImageReadError) as err:
        read_image(str(cut))
    assert err.value.reason == 'truncated' and 'cut.jpg' in str(err.value)

    with pytest.raises(ImageReadError) as err:
        read_image(str(tmp_path))
    assert err.value.reason == 'unreadable'


def test_encode_png_is_lossless_and_jpeg_is_jpeg():
    rgb = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    png = encode_image(rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), rgb)
    assert png == encode_image(rgb), 'encoding is deterministic'
    jpeg = encode_image(rgb, jpeg_quality=90)
    assert jpeg[:3] == b'\xff\xd8\xff'
