"""Publish a trained model: ``python tools/publish_model.py CHECKPOINT OUT_STEM``.

Writes ``OUT_STEM-<first 8 hex digits of its sha256>.safetensors`` holding the model's weights only
(OpenMMLab's convention); every rdid_mm loader checks that suffix against the file.
"""
import argparse
import sys

from rdid_mm.utils.weights_file import CheckpointError
from rdid_mm.engine.publish import publish_weights


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoint', help='training checkpoint (.pth) or weights file')
    parser.add_argument('out_stem', help='output name without the hash and extension')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing file')
    args = parser.parse_args(argv)
    try:
        print(publish_weights(args.checkpoint, args.out_stem, overwrite=args.overwrite))
    except (CheckpointError, OSError) as err:
        sys.exit(f'publish_model.py: error: {err}')


if __name__ == '__main__':
    main()
