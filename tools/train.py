"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]``."""
import argparse
import sys

from mmengine.config import DictAction

from rdid_mm.apis import USER_ERRORS, train


def parse_args():
    parser = argparse.ArgumentParser(description='Train an rdid_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the latest checkpoint in the work_dir, or from the given checkpoint '
        '(which must lie in the work_dir)')
    parser.add_argument('--load-from', help='initialise from a weights file (.safetensors)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (CUDA)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value (e.g. train_cfg.max_iters=2)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    resume = True if args.resume == 'auto' else args.resume
    try:
        train(args.config, work_dir=args.work_dir, resume=resume or False, amp=args.amp,
              cfg_options=args.cfg_options, launcher=args.launcher, load_from=args.load_from)
    except USER_ERRORS as err:
        sys.exit(f'train.py: error: {err}')


if __name__ == '__main__':
    main()
