"""Publishing a trained model as OpenMMLab does: a weights file whose name carries its sha256.

``tools/publish_model.py work_dirs/x/iter_200400.pth rdid_gan_coco`` writes
``rdid_gan_coco-1a2b3c4d.safetensors``: the model's state_dict only (no optimiser, no pickled
code), named with the first 8 hex digits of the file's sha256 (mmengine/mmdet's convention).
Every loader checks such a suffix (:func:`rdid_mm.utils.weights_file.check_hash_suffix`), so a
truncated, corrupted or swapped file is refused by name before it is read.
"""
import hashlib
import os.path as osp
from typing import Optional

from safetensors import safe_open

from rdid_mm.utils.io import atomic_write
from rdid_mm.utils.weights_file import (CheckpointError, load_state_dict_file, state_dict_bytes,
                                        weights_path_for)


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
