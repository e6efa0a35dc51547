"""Reading images and writing outputs atomically (temporary file, then ``os.replace``)."""
import json
import os
import os.path as osp

import cv2
import numpy as np


def read_rgb(path: str) -> np.ndarray:
    """Decode an image file into an ``H x W x 3`` uint8 RGB array; clear errors for bad files.

    EXIF orientation is not applied: COCO's boxes and keypoints follow the stored pixels, and the
    builder and the paired dataset read images the same way.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ValueError(f'{path}: not a decodable image')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _replace_atomically(path: str, write) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp{os.getpid()}')
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_bytes_atomic(data: bytes, path: str) -> None:
    def write(tmp):
        with open(tmp, 'wb') as f:
            f.write(data)
    _replace_atomically(path, write)


def write_text_atomic(text: str, path: str) -> None:
    write_bytes_atomic(text.encode('utf-8'), path)


def write_json_atomic(obj, path: str) -> None:
    write_text_atomic(json.dumps(obj), path)


def write_png_atomic(rgb: np.ndarray, path: str) -> None:
    """Write an ``H x W x 3`` uint8 RGB array as PNG."""
    ok, encoded = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f'could not encode a PNG for {path}')
    write_bytes_atomic(encoded.tobytes(), path)


def save_figure_atomic(figure, path: str, **kwargs) -> None:
    """Save a matplotlib figure; the format follows the file extension."""
    fmt = osp.splitext(path)[1].lstrip('.') or 'png'
    _replace_atomically(path, lambda tmp: figure.savefig(tmp, format=fmt, **kwargs))
