"""Find the pixelated (mosaic) regions of images or a video and write their boxes.

    python tools/locate_mosaics.py INPUT --out boxes.json

INPUT is a folder (searched recursively), an image or a video. The output maps each relative path
(video frames as ``video.mp4#000123``) to ``[[x, y, w, h, block_size, score], ...]``.
"""
import argparse
import json
import os.path as osp
import sys

from rdid_mm.restore.items import RestoreInputError
from rdid_mm.restore.locate_inputs import locate_input
from rdid_mm.restore.strided_localiser import NETWORK_EVERY
from rdid_mm.utils.io import atomic_write


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('input', help='a folder of images (recursive), an image or a video')
    parser.add_argument('--out', required=True, help='the boxes json to write')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --out')
    parser.add_argument('--lattice-only', action='store_true',
                        help='without the learned detector: the lattice localiser alone (half the '
                        'time; lower recall on small, crowded and compressed mosaics)')
    parser.add_argument('--network-every', type=int, default=NETWORK_EVERY,
                        help='on video frames: the learned detector on the whole of every N-th '
                        f'frame, between only around the faces (default {NETWORK_EVERY}; 1: every '
                        'frame)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if osp.exists(args.out) and not args.overwrite:
        sys.exit(f'locate_mosaics.py: error: {args.out} exists; pass --overwrite to replace it')
    if args.network_every < 1:
        sys.exit(f'locate_mosaics.py: error: --network-every must be at least 1 (every frame), '
                 f'got {args.network_every}')
    try:
        boxes = locate_input(args.input, progress=True, learned=not args.lattice_only,
                             network_every=args.network_every)
    except (RestoreInputError, ValueError) as err:
        sys.exit(f'locate_mosaics.py: error: {err}')
    atomic_write(args.out, json.dumps(boxes, indent=0).encode())
    found = sum(len(v) for v in boxes.values())
    print(f'{found} mosaics in {sum(1 for v in boxes.values() if v)} of {len(boxes)} '
          f'images/frames -> {args.out}')


if __name__ == '__main__':
    main()
