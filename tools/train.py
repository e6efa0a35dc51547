"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]``."""
import argparse
import sys

from mmengine.config import DictAction

from rdid_mm.apis import USER_ERRORS, train
from rdid_mm.engine import ScheduleError


def parse_args():
    parser = argparse.ArgumentParser(description='Train an rdid_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the latest checkpoint in the work_dir, or from the given checkpoint '
        '(read with weights_only=True: no pickled code runs)')
    parser.add_argument(
        '--resume-allow-changes', action='store_true',
        help='resume even if the global batch, the training set length or the seed differs from '
        "the checkpoint's (logged; the sample stream then repeats or skips samples)")
    parser.add_argument('--load-from', help='initialise from a weights file (.safetensors)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (CUDA)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by global batch / auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value (e.g. train_cfg.max_iters=2)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if args.resume is not None and args.load_from is not None:
        parser.exit(2, 'train.py: error: --resume and --load-from cannot be used together: '
                    '--resume continues a run (weights, optimisers, schedule, RNG); --load-from '
                    'starts a new run from weights.\n')
    return args


def main():
    args = parse_args()
    resume = True if args.resume == 'auto' else args.resume
    cfg_options = dict(args.cfg_options or {})
    if args.auto_scale_lr:
        cfg_options['auto_scale_lr.enable'] = True
    try:
        train(args.config, work_dir=args.work_dir, resume=resume or False, amp=args.amp,
              cfg_options=cfg_options or None, launcher=args.launcher, load_from=args.load_from,
              resume_allow_changes=args.resume_allow_changes)
    except USER_ERRORS + (ScheduleError, ) as err:
        sys.exit(f'train.py: error: {err}')
    except KeyError as err:  # MMEngine's registries: "X is not in the rdid_mm::model registry."
        message = str(err.args[0]) if err.args else ''
        if ' registry' not in message:
            raise
        sys.exit(f'train.py: error: {args.config}: {message.split(". Please")[0]}')


if __name__ == '__main__':
    main()
