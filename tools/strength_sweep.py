"""AP against pixelation strength for GT, Mosaic and models: sweep.md, sweep.csv, sweep.png.

    python tools/strength_sweep.py data/deid_val2017 --strengths 4 8 16 32 \
        --out-dir work_dirs/sweep --model RDID-GAN configs/rdid_gan_coco.py best.safetensors
"""
import argparse
import sys

from rdid_mm.apis import USER_ERRORS
from rdid_mm.reports import make_strength_sweep
from rdid_mm.reports.cli_options import add_detector_args, add_split_args, detector_from_args
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def parse_args():
    parser = argparse.ArgumentParser(description='AP against pixelation strength')
    add_split_args(parser)
    parser.add_argument('--model', nargs=3, action='append', default=[],
                        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
                        help='a model evaluated at every strength (repeatable)')
    add_detector_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    try:
        paths = make_strength_sweep(
            args.deid_root, args.out_dir, strengths=args.strengths, models=args.model,
            detector=detector_from_args(args), gt_dir=args.gt_dir, ann_file=args.ann_file,
            cache_dir=args.cache_dir, device=args.device, batch_size=args.batch_size,
            num_bootstrap=args.bootstrap, seed=args.seed)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'strength_sweep.py: error: {err}')
    for kind, path in paths.items():
        print(f'{kind}: {path}')


if __name__ == '__main__':
    main()
