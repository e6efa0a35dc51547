"""Publish a trained model as OpenMMLab does: ``python tools/publish_model.py CHECKPOINT OUT_STEM``.

Writes ``OUT_STEM-<first 8 hex digits of its sha256>.safetensors`` holding the model's state_dict
only (no optimiser, no pickled code): mmengine/mmdet's convention. Every rdid_mm loader checks
that suffix against the file (:func:`rdid_mm.utils.weights_file.check_hash_suffix`), so a
truncated, corrupted or swapped file is refused by name before it is read.
"""
import argparse
import hashlib
import os.path as osp
import sys
from typing import Optional

from safetensors import safe_open

from rdid_mm.utils.io import atomic_write
from rdid_mm.utils.weights_file import (
    CheckpointError,
    load_state_dict_file,
    state_dict_bytes,
    weights_path_for,
)


def publish_weights(checkpoint: str, out_stem: str, overwrite: bool = False) -> str:
    """Write ``<out_stem>-<sha256[:8]>.safetensors`` from a checkpoint or weights file; return it.

    ``checkpoint`` is a training checkpoint (``.pth``: its weights file beside it is used when
    present, else the checkpoint is read with ``weights_only=True``) or a weights file.
    """
    source = checkpoint
    if not checkpoint.endswith('.safetensors') and osp.isfile(weights_path_for(checkpoint)):
        source = weights_path_for(checkpoint)
    data = state_dict_bytes(load_state_dict_file(source), metadata=_metadata_of(source))
    final = f'{out_stem}-{hashlib.sha256(data).hexdigest()[:8]}.safetensors'
    if osp.exists(final) and not overwrite:
        raise CheckpointError(f'{final} exists already (use --overwrite)')
    atomic_write(final, data)
    return final


def _metadata_of(path: str) -> Optional[dict]:
    """The safetensors metadata of ``path`` (provenance, training split), if it has any."""
    if not path.endswith('.safetensors'):
        return None
    with safe_open(path, framework='pt') as f:
        return f.metadata()


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
