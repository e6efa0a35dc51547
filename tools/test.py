"""Restore the test split and print its AP table: ``python tools/test.py CONFIG WEIGHTS``."""
import argparse
import sys

from mmengine.config import DictAction

from rdid_mm.apis import USER_ERRORS, format_metrics_table, test
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) an rdid_mm model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='weights file (.safetensors or weights-only .pth), or a '
                        'work_dir (its best_*.safetensors)')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument('--out', help='folder for the detections json and the restored images')
    parser.add_argument(
        '--paste-to-face-boxes', action='store_true',
        help='keep the input outside the face boxes and restored pixels inside them')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    try:
        metrics = test(args.config, args.checkpoint, work_dir=args.work_dir, out=args.out,
                       paste_to_face_boxes=args.paste_to_face_boxes,
                       cfg_options=args.cfg_options, launcher=args.launcher)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'test.py: error: {err}')
    print(format_metrics_table(metrics))


if __name__ == '__main__':
    main()
