"""Reading images for de-identification, and encoding the mosaics.

The EXIF rule: pixels are used as stored; the EXIF orientation tag is never applied. COCO boxes
and keypoints, and the json's ``width``/``height``, follow the stored pixels, so a mosaic stays
pixel-aligned with its ``gt/`` original and its annotations. The decoded size is checked against
the json's; a mismatch is reported (with the orientation tag, which usually explains it) instead of
guessed.

Grayscale, palette, RGBA/LA, CMYK and 16-bit images are converted to 8-bit RGB for detection and the
mosaic; the original file is copied to ``gt/`` untouched.
"""
import warnings
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageFile

EXIF_ORIENTATION = 0x0112
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


class ImageReadError(Exception):
    """An image that cannot be used; ``reason`` is one of ``missing``, ``unreadable``,
    ``truncated``, ``size_mismatch``."""

    def __init__(self, reason: str, path: str, detail: str):
        super().__init__(f'{path}: {reason}: {detail}')
        self.reason = reason
        self.path = path
        self.detail = detail


@dataclass
class DecodedImage:
    """8-bit RGB pixels as stored, and what was found on the way."""
    rgb: np.ndarray
    mode: str
    orientation: int


def _to_rgb8(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I'):
        pixels = np.asarray(image).astype(np.float64)
        peak = 65535.0 if mode.startswith('I;16') or pixels.max(initial=0) > 255 else 255.0
        gray = np.clip(np.floor(pixels * 255.0 / peak + 0.5), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == 'F':
        pixels = np.asarray(image, dtype=np.float64)
        gray = np.clip(np.floor(pixels + 0.5), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == 'P' and 'transparency' in image.info:
        image = image.convert('RGBA')
    if image.mode != 'RGB':
        image = image.convert('RGB')
    return np.asarray(image, dtype=np.uint8)


def read_image(path: str, expected_size: Optional[tuple] = None) -> DecodedImage:
    """Decode ``path`` to 8-bit RGB, stored orientation.

    Args:
        path: the image file.
        expected_size: ``(width, height)`` from the annotations, checked against the pixels.

    Raises:
        ImageReadError: missing, unreadable, truncated file, or a size that differs from the json.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError('PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set: truncated images would be '
                           'decoded silently with missing pixels')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                orientation = int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)
                image.load()
                mode = image.mode
                rgb = _to_rgb8(image)
    except FileNotFoundError:
        raise ImageReadError('missing', path, 'file not found') from None
    except IsADirectoryError:
        raise ImageReadError('unreadable', path, 'is a directory') from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as err:
        message = str(err) or type(err).__name__
        reason = 'truncated' if 'truncated' in message.lower() else 'unreadable'
        raise ImageReadError(reason, path, message) from None
    if expected_size is not None:
        width, height = expected_size
        if (rgb.shape[1], rgb.shape[0]) != (width, height):
            hint = (f' (EXIF orientation {orientation}: the file may have been rotated after '
                    'annotation)' if orientation != 1 else '')
            raise ImageReadError(
                'size_mismatch', path, f'pixels are {rgb.shape[1]}x{rgb.shape[0]}, the annotation '
                f'file says {width}x{height}{hint}')
    return DecodedImage(rgb=rgb, mode=mode, orientation=orientation)


def encode_image(rgb: np.ndarray, jpeg_quality: Optional[int] = None) -> bytes:
    """Lossless PNG bytes, or JPEG bytes at ``jpeg_quality`` (1-100)."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if jpeg_quality is None:
        ok, buffer = cv2.imencode('.png', bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    else:
        ok, buffer = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    if not ok:
        raise RuntimeError('OpenCV failed to encode an image')
    return buffer.tobytes()


def mosaic_extension(jpeg_quality: Optional[int]) -> str:
    return '.png' if jpeg_quality is None else '.jpg'
