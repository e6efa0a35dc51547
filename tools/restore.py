"""Restore the pixelated faces of a de-identified dataset with a trained model.

    python tools/restore.py CONFIG WEIGHTS --deid-dir data/deid_coco/val2017 --strength 8 \\
        --out data/restored_coco/val2017

Any folder, image or video pixelated by anyone (boxes from --boxes, a builder faces.json, or the
mosaic localiser; see docs/restore.md):

    python tools/restore.py CONFIG WEIGHTS --input INPUT --out OUT [--boxes boxes.json]

Both run the same loop (rdid_mm/restore/loop.py): --deid-dir D --strength S is --input
D/mosaic/sS with D/faces.json's boxes. Region mode (only the boxes change) is the default for a
model trained on crops; --whole-image keeps the generator's output everywhere.
"""
import argparse
import sys

from rdid_mm.apis import USER_ERRORS, init_model
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.layout import DeidLayout
from rdid_mm.models.restore_mode import WHOLE, default_mode
from rdid_mm.models.restorers import model_restorer
from rdid_mm.privacy.training_split_warning import training_split_message
from rdid_mm.restore.box_sources import choose_box_source
from rdid_mm.restore.loop import restore_deid_folder, restore_input
from rdid_mm.restore.run_progress import ProgressHook
from rdid_mm.restore.strided_localiser import NETWORK_EVERY
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def parse_args():
    parser = argparse.ArgumentParser(
        description='Restore pixelated faces with a trained model (RDID-GAN, CycleGAN, Pix2Pix)')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='weights file (.safetensors or weights-only .pth), or a '
                        'work_dir (its best_*.safetensors)')
    parser.add_argument('--deid-dir', help="the builder's output folder")
    parser.add_argument('--strength', type=int, help='which mosaic/s{S} to restore')
    parser.add_argument('--input', help='any folder, image or video (instead of --deid-dir)')
    parser.add_argument('--boxes', help='with --input: boxes json from tools/locate_mosaics.py')
    parser.add_argument('--lattice-only', action='store_true',
                        help='with --input and no --boxes: the localiser without its learned '
                        'detector (about 6x faster on 1080p frames, lower recall)')
    parser.add_argument('--network-every', type=int,
                        help='with --input and the localiser, for videos: its learned detector on '
                        f'the whole of every N-th frame, between only around the faces (default '
                        f'{NETWORK_EVERY}: the tracker bridges a face lost between; 1: every '
                        'frame)')
    parser.add_argument('--ann-file', help='with --input: a COCO json of the images to restore')
    parser.add_argument('--codec', choices=['h264', 'ffv1'],
                        help='with --input: video codec (default h264; ffv1: lossless .mkv)')
    parser.add_argument('--temporal', choices=['track', 'frame'],
                        help='with --input, for videos: track (default: each face tracked and '
                        'restored once per key, warped along its track) or frame (each frame '
                        'on its own)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the outputs of another run in --out')
    parser.add_argument('--out', required=True, help='folder for the restored PNGs')
    parser.add_argument('--whole-image', action='store_true',
                        help='keep the generator output everywhere (default: only in the face '
                        'boxes, for a model trained on crops)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    return parser.parse_args()


def argument_problem(args):
    """Why the options do not go together (None if they do): one source, and no option the
    chosen source would ignore."""
    if args.input is not None and args.deid_dir is not None:
        return 'give --input or --deid-dir, not both'
    if args.input is None and (args.deid_dir is None or args.strength is None):
        return 'give --input, or --deid-dir and --strength'
    only_input = [flag for flag, value in (('--boxes', args.boxes), ('--ann-file', args.ann_file),
                                           ('--codec', args.codec),
                                           ('--temporal', args.temporal),
                                           ('--lattice-only', args.lattice_only or None),
                                           ('--network-every', args.network_every))
                  if value is not None]
    if args.deid_dir is not None and only_input:
        verb = 'go' if len(only_input) > 1 else 'goes'
        return (f"{' and '.join(only_input)} {verb} with --input; --deid-dir reads the dataset's "
                'own faces.json and annotations')
    # where the localiser gives no boxes (--whole-image, --boxes, a builder output) its options
    # are refused by the box source itself: source_problem
    if args.network_every is not None:
        if args.lattice_only:
            return ('--network-every sets the learned detector on video frames; --lattice-only '
                    'runs no learned detector')
        if args.network_every < 1:
            return f'--network-every must be at least 1 (every frame), got {args.network_every}'
    if args.input is not None and args.strength is not None:
        return '--strength goes with --deid-dir (it names the mosaic/s{S} folder to restore)'
    return None


def source_problem(args):
    """Why the input's box source would ignore --lattice-only, --network-every or --boxes (None
    if it would not): --whole-image looks for no boxes, --boxes or a builder output's faces.json
    gives them. :func:`choose_box_source` decides, from the options and the input alone, so it is
    asked before any model is built; :func:`restore_input` asks it again (a model whose default
    is whole-image mode is known only then)."""
    localiser_options = args.lattice_only or args.network_every is not None
    if args.input is None or not (localiser_options or (args.boxes and args.whole_image)):
        return None  # (a boxes file alone is read once, by the restore loop)
    try:
        choose_box_source(args.input, args.boxes, args.whole_image, args.ann_file is not None,
                          not args.lattice_only, args.network_every)
    except (OSError, ValueError) as err:  # RestoreInputError, or an unreadable faces.json
        return str(err)
    return None


def device_problem(device):
    """Why ``device`` cannot be used here (None if it can): checked before any model is built."""
    import torch
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as err:
        return f'--device {device}: not a device ({err})'
    if parsed.type == 'cuda':
        if not torch.cuda.is_available():
            return (f'--device {device}: no CUDA GPU on this machine (or no driver); '
                    'use --device cpu')
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            return f'--device {device}: this machine has {torch.cuda.device_count()} CUDA GPU(s)'
    elif parsed.type != 'cpu':
        backend = getattr(torch, parsed.type, None)  # torch.xpu, torch.mps, ...
        available = getattr(backend, 'is_available', None)
        if available is None or not available():
            return (f'--device {device}: no {parsed.type} device on this machine (or one that '
                    'holds no data); use --device cpu')
    return None


def main():
    args = parse_args()
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    problem = argument_problem(args) or source_problem(args) or device_problem(args.device)
    if problem:
        sys.exit(f'restore.py: error: {problem}')
    try:
        model = init_model(args.config, args.checkpoint, device=args.device)
        ann_file = (args.ann_file if args.input is not None else
                    DeidLayout.existing(args.deid_dir).ann_file)
        message = ann_file and training_split_message(resolve_weights_path(args.checkpoint),
                                                      ann_file)
        if message:
            print(f'restore.py: warning: {message}', file=sys.stderr)
        whole_image = args.whole_image or default_mode(model.cfg) == WHOLE
        restorer = model_restorer(model)
        hooks = [ProgressHook()]  # items/s and ETA; the run's summary is logged at its end
        if args.input is not None:
            restore_input(restorer, args.input, args.out, boxes_file=args.boxes,
                          whole_image=whole_image, ann_file=args.ann_file,
                          overwrite=args.overwrite, codec=args.codec or 'h264', hooks=hooks,
                          temporal=args.temporal or 'track',
                          learned_localiser=not args.lattice_only,
                          network_every=args.network_every)
        else:
            restore_deid_folder(restorer, args.deid_dir, args.strength, args.out,
                                whole_image=whole_image, overwrite=args.overwrite, hooks=hooks)
    except USER_ERRORS + (ValueError, ) as err:  # RestoreInputError is a ValueError
        sys.exit(f'restore.py: error: {err}')


if __name__ == '__main__':
    main()
