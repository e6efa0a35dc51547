"""The one atomic file write and the one image decoder of the package.

Writes: a file appears complete at its path or not at all. It is written under a temporary name
(beside the target, or in a staging folder on the same file system), flushed and fsynced,
renamed into place, and the folder is fsynced, so neither an interrupted run nor a power cut
leaves a partial file. Staging files are created with mode 0o666 and the process umask applied
by the kernel (the umask is never read or changed, so nothing process-wide is touched).

Reads: :func:`read_image` decodes every image the same way, for the builder, the paired dataset,
every row of the tables and every metric: Pillow, pixels as stored (the EXIF orientation is never
applied: COCO's boxes and keypoints follow the stored pixels), converted to 8-bit RGB (16-bit
rounded, palette transparency and LA/RGBA alpha dropped after conversion).
"""
import json
import os
import os.path as osp
import re
import shutil
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

EXIF_ORIENTATION = 0x0112
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


# ---------------------------------------------------------------------------------- writing
# ``.<target name>.<12 hex digits><suffix>``: what :func:`_staging_name` makes, nothing else
STAGING_NAME = re.compile(r'^\..+\.[0-9a-f]{12}\.[A-Za-z0-9]+$')


def _staging_name(target: str, staging_dir: Optional[str], suffix: str) -> str:
    folder = staging_dir or osp.dirname(osp.abspath(target))
    return osp.join(folder, f'.{osp.basename(target)[:64]}.{uuid.uuid4().hex[:12]}{suffix}')


def remove_staging_files(folder: str) -> int:
    """Remove the staging files a killed run left under ``folder`` (sub-folders too); returns
    how many.

    A SIGKILL (or a power cut) between the creation of a staging file and its rename leaves it
    behind; a tool calls this on the folder it owns before writing into it again. Only names of
    the staging pattern are touched, never a finished file.
    """
    removed = 0
    for root, _, names in os.walk(folder):
        for name in names:
            if STAGING_NAME.match(name):
                try:
                    os.remove(osp.join(root, name))
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_staging_file(target: str, staging_dir: Optional[str] = None, suffix: str = '.tmp') -> str:
    """Create an empty staging file for ``target`` (mode 0o666 less the umask); return its path.

    ``suffix`` ends the name (e.g. ``.mp4`` for an encoder that picks the format by extension).
    """
    folder = staging_dir or osp.dirname(osp.abspath(target))
    os.makedirs(folder, exist_ok=True)
    path = _staging_name(target, staging_dir, suffix)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return path


def commit_staging_file(staging: str, target: str, fsync: bool = True) -> None:
    """fsync a finished staging file and rename it to ``target`` (then fsync the folder)."""
    if fsync:
        with open(staging, 'rb+') as f:
            os.fsync(f.fileno())
    folder = osp.dirname(osp.abspath(target))
    os.makedirs(folder, exist_ok=True)
    os.replace(staging, target)
    _fsync_dir(folder)


@contextmanager
def atomic_open(target: str, mode: str = 'wb', staging_dir: Optional[str] = None):
    """Open ``target`` for writing; it appears, complete, only if the block ends without error."""
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_open writes new files: mode 'w' or 'wb', got {mode!r}")
    staging = new_staging_file(target, staging_dir)
    try:
        with open(staging, mode, **({} if 'b' in mode else {'encoding': 'utf-8'})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        commit_staging_file(staging, target, fsync=False)
    finally:
        if osp.lexists(staging):
            os.remove(staging)


def atomic_write(target: str, data: Union[bytes, str], staging_dir: Optional[str] = None) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``target`` atomically."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    with atomic_open(target, 'wb', staging_dir) as f:
        f.write(data)


def atomic_write_json(target: str, obj, indent=None, staging_dir: Optional[str] = None) -> None:
    atomic_write(target, json.dumps(obj, indent=indent, ensure_ascii=False), staging_dir)


def atomic_link_or_copy(source: str, target: str, staging_dir: Optional[str] = None) -> str:
    """Put the bytes of ``source`` at ``target`` (a hard link if possible, else a copy).

    Returns ``'link'`` or ``'copy'``; ``source`` is only read.
    """
    if osp.isfile(target) and osp.samefile(source, target):
        return 'link'
    staging = new_staging_file(target, staging_dir)
    os.remove(staging)
    try:
        try:
            os.link(source, staging)
            how = 'link'
        except OSError:
            shutil.copyfile(source, staging)
            how = 'copy'
        commit_staging_file(staging, target)
    finally:
        if osp.lexists(staging):
            os.remove(staging)
    return how


def encode_image(rgb: np.ndarray, jpeg_quality: Optional[int] = None, ext: str = '.png') -> bytes:
    """An ``H x W x 3`` uint8 RGB array as lossless PNG bytes, or JPEG bytes (with a
    ``jpeg_quality``, or an ``ext`` of ``.jpg``: quality 95)."""
    import cv2
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB array, got {rgb.shape} {rgb.dtype}')
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if jpeg_quality is not None or ext.lower() in ('.jpg', '.jpeg'):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality or 95)]
        ok, buffer = cv2.imencode('.jpg', bgr, params)
    else:
        ok, buffer = cv2.imencode('.png', bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError('OpenCV failed to encode an image')
    return buffer.tobytes()


def write_image(rgb: np.ndarray, target: str, staging_dir: Optional[str] = None) -> None:
    """Write an RGB array atomically, PNG or JPEG after the extension of ``target``."""
    atomic_write(target, encode_image(rgb, ext=osp.splitext(target)[1] or '.png'), staging_dir)


def save_figure(figure, target: str, **kwargs) -> None:
    """Save a matplotlib figure atomically; the format follows the extension."""
    fmt = osp.splitext(target)[1].lstrip('.') or 'png'
    with atomic_open(target, 'wb') as f:
        figure.savefig(f, format=fmt, **kwargs)


# ---------------------------------------------------------------------------------- reading
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


def _to_rgb8(image) -> np.ndarray:
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
    """Decode ``path`` to 8-bit RGB in the stored orientation.

    Args:
        path: the image file.
        expected_size: ``(width, height)`` from the annotations, checked against the pixels.

    Raises:
        ImageReadError: missing, unreadable, truncated file, or a size that differs from the json.
    """
    from PIL import Image, ImageFile
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError('PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set: truncated images would be '
                           'decoded silently with missing pixels')
    try:
        if os.stat(path).st_size == 0:
            raise ImageReadError('unreadable', path, 'empty file (0 bytes)')
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


def incomplete_image(path: str, expected_size: Optional[tuple] = None) -> Optional[str]:
    """Why an existing output cannot be kept (``'truncated: ...'``), or None when it decodes
    completely (at ``expected_size``, when given). Reruns check kept outputs with it: a file torn
    by a crash of another writer or a copy is redone, not taken for complete."""
    try:
        read_image(path, expected_size=expected_size)
    except ImageReadError as err:
        return f'{err.reason}: {err.detail}'
    return None


def read_rgb(path: str) -> np.ndarray:
    """:func:`read_image`'s pixels (``H x W x 3`` uint8 RGB); a missing file is a
    FileNotFoundError and an undecodable one a ValueError, each naming the file."""
    try:
        return read_image(path).rgb
    except ImageReadError as err:
        if err.reason == 'missing':
            raise FileNotFoundError(f'image file not found: {path}') from None
        raise ValueError(f'{path}: not a decodable image ({err.detail})') from None
