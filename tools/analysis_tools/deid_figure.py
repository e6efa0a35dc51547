"""Figure of a de-identified image: original | pixelated at each strength (cropped to the faces).

    python tools/analysis_tools/deid_figure.py --deid-dir data/deid_coco/val2017 \
        --file-name 000000040083.jpg --out deid_strengths.png

Reads ``gt/``, ``mosaic/s*/`` and ``faces.json`` of a dataset built by tools/build_deid_dataset.py.
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
from typing import Optional, Sequence

import cv2
import numpy as np

from rdid_mm.utils.io import atomic_write, read_image

LABEL_HEIGHT = 28
GAP = 6


def available_strengths(deid_dir: str) -> list:
    """The strengths with a ``mosaic/s{S}`` folder, ascending."""
    found = []
    for path in glob.glob(osp.join(deid_dir, 'mosaic', 's*')):
        match = re.fullmatch(r's(\d+)', osp.basename(path))
        if match and osp.isdir(path):
            found.append(int(match.group(1)))
    return sorted(found)


def face_crop(boxes: Sequence[Sequence], width: int, height: int, padding: float):
    """The region around all face boxes (``[x, y, w, h, ...]``), grown by ``padding`` times
    its size."""
    if not boxes:
        return 0, 0, width, height
    x1 = min(b[0] for b in boxes)
    y1 = min(b[1] for b in boxes)
    x2 = max(b[0] + b[2] for b in boxes)
    y2 = max(b[1] + b[3] for b in boxes)
    pad = padding * max(x2 - x1, y2 - y1)
    return (max(0, int(x1 - pad)), max(0, int(y1 - pad)), min(width, int(x2 + pad + 1)),
            min(height, int(y2 + pad + 1)))


def _tile(image: np.ndarray, label: str, tile_height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = tile_height / h
    # nearest neighbour keeps the blocks crisp when the crop is enlarged
    interpolation = cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA
    resized = cv2.resize(image, (max(1, round(w * scale)), tile_height),
                         interpolation=interpolation)
    band = np.full((LABEL_HEIGHT, resized.shape[1], 3), 255, np.uint8)
    cv2.putText(band, label, (6, LABEL_HEIGHT - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.concatenate([band, resized], axis=0)


def strength_figure(deid_dir: str, file_name: str, strengths: Optional[Sequence[int]] = None,
                    crop_to_faces: bool = True, padding: float = 0.6,
                    tile_height: int = 256) -> np.ndarray:
    """Original (``gt/``) and its mosaics, cropped around the faces, as one RGB image."""
    gt_path = osp.join(deid_dir, 'gt', file_name)
    if not osp.isfile(gt_path):
        raise FileNotFoundError(f'{gt_path} not found (a --publish build has no originals)')
    original = read_image(gt_path).rgb
    height, width = original.shape[:2]
    strengths = list(strengths) if strengths else available_strengths(deid_dir)
    if not strengths:
        raise FileNotFoundError(f'no mosaic/s* folders in {deid_dir}')
    with open(osp.join(deid_dir, 'faces.json'), encoding='utf-8') as f:
        boxes = json.load(f).get(file_name, [])
    x1, y1, x2, y2 = face_crop(boxes, width, height, padding) if crop_to_faces else (
        0, 0, width, height)
    stem = osp.splitext(file_name)[0]
    tiles = [_tile(original[y1:y2, x1:x2], 'original', tile_height)]
    for strength in strengths:
        matches = glob.glob(osp.join(deid_dir, 'mosaic', f's{strength}', stem + '.*'))
        if not matches:
            raise FileNotFoundError(f'no mosaic of {file_name} at strength {strength}')
        mosaic = read_image(matches[0]).rgb
        tiles.append(_tile(mosaic[y1:y2, x1:x2], f'S = {strength}', tile_height))
    gap = np.full((tiles[0].shape[0], GAP, 3), 255, np.uint8)
    parts = []
    for tile in tiles:
        parts += [tile, gap]
    return np.concatenate(parts[:-1], axis=1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--deid-dir', required=True, help='output folder of the builder')
    parser.add_argument('--file-name', required=True, help='the image (its COCO file_name)')
    parser.add_argument('--out', required=True, help='figure file (.png)')
    parser.add_argument('--strengths', type=int, nargs='+', help='default: every mosaic folder')
    parser.add_argument('--full-image', action='store_true', help='do not crop to the faces')
    parser.add_argument('--tile-height', type=int, default=256, help='pixels per tile (256)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        figure = strength_figure(args.deid_dir, args.file_name, args.strengths,
                                 crop_to_faces=not args.full_image, tile_height=args.tile_height)
    except FileNotFoundError as err:
        print(f'deid_figure.py: error: {err}', file=sys.stderr)
        return 2
    _, png = cv2.imencode('.png', cv2.cvtColor(figure, cv2.COLOR_RGB2BGR))
    atomic_write(args.out, png.tobytes())
    print(f'wrote {args.out} ({figure.shape[1]}x{figure.shape[0]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
