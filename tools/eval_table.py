"""The paper's Table 1: GT, Mosaic (each strength) and model rows; box and keypoint AP.

Example (COCO val2017 built at strength 8; RDID-GAN trained with two seeds, one Pix2Pix; a
work_dir stands for its best weights file)::

    python tools/eval_table.py data/deid_val2017 --strengths 8 --out-dir work_dirs/table1 \
        --model RDID-GAN configs/rdid_gan_coco.py work_dirs/rdid_gan_coco_seed1 \
        --model RDID-GAN configs/rdid_gan_coco.py work_dirs/rdid_gan_coco_seed2 \
        --model Pix2Pix configs/pix2pix/...py work_dirs/pix2pix_seed1

The two RDID-GAN checkpoints are rows ``RDID-GAN run 1 s8`` and ``run 2``, then a row with their
mean ± sample standard deviation (``rdid_mm/reports/seeds.py``).

Any mmdet detection or mmpose body-keypoint config instead of Keypoint R-CNN (the footer names it)::

    python tools/eval_table.py data/deid_val2017 --strengths 8 --out-dir work_dirs/table1_rtmdet \
        --detector-config mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py \
        --detector-weights rtmdet_tiny_coco.pth

Writes table1.md, table1.csv and ap_vs_strength.png; detections are cached under
OUT_DIR/cache, so a rerun only rescores.
"""
import argparse
import sys

from rdid_mm.apis import USER_ERRORS
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.layout import DeidLayout
from rdid_mm.privacy.training_split_warning import training_split_message
from rdid_mm.reports import make_table1
from rdid_mm.reports.cli_options import (
    add_detector_args,
    add_detector_config_args,
    add_split_args,
    detector_from_args,
    detector_settings_from_args,
)
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def warn_training_split(args):
    """One line per model row whose weights were trained on images of the scored split."""
    if not args.model:
        return
    ann_file = DeidLayout.existing(args.deid_root, gt_dir=args.gt_dir,
                                   ann_file=args.ann_file).ann_file
    for name, _, checkpoint in args.model:
        message = training_split_message(resolve_weights_path(checkpoint), ann_file)
        if message:
            print(f'eval_table.py: warning: row {name}: {message}', file=sys.stderr)


def parse_args():
    parser = argparse.ArgumentParser(description='Table 1: AP of GT, Mosaic and models')
    add_split_args(parser)
    parser.add_argument('--model', nargs=3, action='append', default=[],
                        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
                        help='a model row (repeatable): display name, config, weights file or '
                        'work_dir; one NAME given several times (same config) is several training '
                        'seeds of one model: a row each, then their mean and sample sd')
    parser.add_argument('--model-strengths', choices=('trained', 'all'), default='trained',
                        help='evaluate each model at the strength it was trained for, or at all')
    parser.add_argument('--paste-to-face-boxes', action='store_true',
                        help='model rows keep the input outside the face boxes')
    parser.add_argument('--person-images-only', action='store_true',
                        help='score only the images with a person annotation (the paper\'s "COCO '
                        'photos in which people appear"); default: every image of the annotation '
                        'file, as COCO and torchvision do')
    parser.add_argument('--no-face-models', action='store_true',
                        help='leave out the CenterFace recall, landmark error and identity top-1 '
                        'columns (offline face models; on by default when installed)')
    add_detector_args(parser)
    add_detector_config_args(parser)
    args = parser.parse_args()
    if args.bootstrap < 1:
        parser.error(f'--bootstrap {args.bootstrap}: the intervals need at least 1 resample '
                     '(1000 is the default)')
    return args


def main():
    args = parse_args()
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    try:
        warn_training_split(args)
        paths = make_table1(
            args.deid_root, args.out_dir, strengths=args.strengths, models=args.model,
            model_strengths=args.model_strengths,
            detector=detector_settings_from_args(args, detector_from_args(args)),
            gt_dir=args.gt_dir, ann_file=args.ann_file, cache_dir=args.cache_dir,
            device=args.device, batch_size=args.batch_size, num_bootstrap=args.bootstrap,
            seed=args.seed, paste_to_face_boxes=args.paste_to_face_boxes,
            person_images_only=args.person_images_only, face_models=not args.no_face_models)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'eval_table.py: error: {err}')
    for kind, path in paths.items():
        print(f'{kind}: {path}')


if __name__ == '__main__':
    main()
