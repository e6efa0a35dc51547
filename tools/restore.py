"""Restore the pixelated faces of a de-identified dataset with a trained model.

    python tools/restore.py CONFIG WEIGHTS --deid-dir data/deid_coco/val2017 --strength 8 \\
        --out data/restored_coco/val2017
"""
import argparse
import sys

from rdid_mm.apis import USER_ERRORS, init_model, restore_folder


def parse_args():
    parser = argparse.ArgumentParser(
        description='Restore pixelated faces with a trained model (RDID-GAN, CycleGAN, Pix2Pix)')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='weights file (.safetensors or weights-only .pth), or a '
                        'work_dir (its best_*.safetensors)')
    parser.add_argument('--deid-dir', required=True, help="the builder's output folder")
    parser.add_argument('--strength', type=int, required=True, help='which mosaic/s{S} to restore')
    parser.add_argument('--out', required=True, help='folder for the restored PNGs')
    parser.add_argument('--whole-image', action='store_true',
                        help='keep the generator output everywhere (default: only in face boxes)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        model = init_model(args.config, args.checkpoint, device=args.device)
        restore_folder(model, args.deid_dir, args.strength, args.out,
                       paste_to_face_boxes=not args.whole_image)
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'restore.py: error: {err}')


if __name__ == '__main__':
    main()
