"""Train a detector and a pose model on each version of a training split, test each on the
ORIGINAL validation images: the table "trained on X, tested on GT".

Example (COCO train2017 de-identified at strength 8, restored with RDID-GAN)::

    python tools/downstream_table.py data/deid_coco/train2017 \\
        --val-ann-file data/coco/annotations/person_keypoints_val2017.json \\
        --val-img-dir data/coco/val2017 --strengths 8 \\
        --restored RDID-GAN data/restored_coco/train2017 \\
        --model RTMDet-tiny configs/downstream/rtmdet_tiny_person_8xb32-300e_deid.py \\
        --model RTMPose-t configs/downstream/rtmpose-t_8xb256-420e_deid-256x192.py \\
        --out-dir work_dirs/downstream

Writes downstream.md, downstream.csv and downstream.json; each training run lives under
OUT_DIR/runs/<model>/<variant>/ and a finished one is reused by a rerun.
"""
import argparse
import sys

from mmengine.config import DictAction

from rdid_mm.apis import USER_ERRORS
from rdid_mm.reports.downstream import train_and_score


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Trained on X, tested on GT')
    parser.add_argument('train_root', help="the builder's output folder of the training split")
    parser.add_argument('--val-ann-file', required=True,
                        help='COCO person-keypoint json of the ORIGINAL validation images')
    parser.add_argument('--val-img-dir', required=True, help='the original validation images')
    parser.add_argument('--out-dir', required=True, help='tables and training runs')
    parser.add_argument('--model', nargs=2, action='append', required=True,
                        metavar=('NAME', 'CONFIG'),
                        help='a model to train on every variant (repeatable): an mmdet or '
                        'mmpose config')
    parser.add_argument('--strengths', type=int, nargs='*', default=[],
                        help='train on mosaic/s{S} for each strength')
    parser.add_argument('--restored', nargs=2, action='append', default=[],
                        metavar=('NAME', 'FOLDER'), help='a restored training split (repeatable)')
    parser.add_argument('--bootstrap', type=int, default=1000, help='bootstrap resamples')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    parser.add_argument('--device', default='cpu', help="where the trained models are tested")
    parser.add_argument('--note', action='append', default=[],
                        help="a line for the table's footer (e.g. 'Smoke test: ...')")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every training run, e.g. train_cfg.max_epochs=12')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        paths = train_and_score(
            args.train_root, args.val_ann_file, args.val_img_dir, args.out_dir,
            models=args.model, strengths=args.strengths, restored=args.restored,
            num_bootstrap=args.bootstrap, seed=args.seed, device=args.device,
            cfg_options=args.cfg_options, notes=args.note)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'downstream_table.py: error: {err}')
    for kind, path in paths.items():
        print(f'{kind}: {path}')


if __name__ == '__main__':
    main()
