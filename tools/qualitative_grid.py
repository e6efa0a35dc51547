"""The qualitative grid (paper Fig. 2): Mosaic | CycleGAN | Pix2Pix | RDID-GAN | GT, faces enlarged.

    python tools/qualitative_grid.py data/deid_val2017 --strength 8 --out grid.png \
        --column CycleGAN work_dirs/table1/cache/rows/model-CycleGAN-s8 \
        --column Pix2Pix work_dirs/table1/cache/rows/model-Pix2Pix-s8 \
        --column RDID-GAN work_dirs/table1/cache/rows/model-RDID-GAN-s8 --img-ids 785 40083
"""
import argparse
import sys

from rdid_mm.apis import USER_ERRORS
from rdid_mm.reports import make_qualitative_grid


def parse_args():
    parser = argparse.ArgumentParser(description='Qualitative grid with enlarged faces')
    parser.add_argument('deid_root', help="the de-identification builder's output folder")
    parser.add_argument('--strength', type=int, required=True, help='mosaic strength shown')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--column', nargs=2, action='append', default=[],
                        metavar=('LABEL', 'DIR'),
                        help='a restored-image column between Mosaic and GT (repeatable)')
    parser.add_argument('--img-ids', type=int, nargs='+', help='COCO image ids to show')
    parser.add_argument('--max-images', type=int, default=4,
                        help='without --img-ids: the first N images with a face')
    parser.add_argument('--gt-dir', help='original images (default: DEID_ROOT/gt)')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        path = make_qualitative_grid(args.deid_root, args.strength, args.column, args.out,
                                     img_ids=args.img_ids, max_images=args.max_images,
                                     gt_dir=args.gt_dir)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'qualitative_grid.py: error: {err}')
    print(f'grid: {path}')


if __name__ == '__main__':
    main()
