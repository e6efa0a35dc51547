"""Figure of a de-identified image: original | pixelated at each strength (cropped to the faces).

    python tools/deid_figure.py --deid-dir data/deid_coco/val2017 --file-name 000000040083.jpg \
        --out deid_strengths.png

Reads ``gt/``, ``mosaic/s*/`` and ``faces.json`` of a dataset built by tools/build_deid_dataset.py.
"""
import argparse
import sys

import cv2

from rdid_mm.utils.io import atomic_write
from rdid_mm.deid.figure import strength_figure


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
