"""Checkpoint policy: no checkpoint runs code when read.

Every checkpoint the Runner saves gets a weights file beside it (``<name>.safetensors``: the model's
state_dict as plain tensors), read and written by :mod:`rdid_mm.utils.weights_file`. The full
training state (optimisers, message hub, schedulers, per-rank RNG and image-buffer files) is stored
as tensors and plain types (:mod:`rdid_mm.engine.plain_state`) and read by ``--resume`` with
:func:`load_training_file`, also ``weights_only=True``: no checkpoint runs code when read.
"""
import json
import os.path as osp
import pickle
from collections import OrderedDict

import torch
from mmengine.model import is_model_wrapper

from rdid_mm.utils.io import atomic_open
from rdid_mm.utils.weights_file import CheckpointError, unpickling_detail, weights_file_metadata

from .plain_state import from_plain, to_plain


def rank_state_path_for(checkpoint_path: str, rank: int) -> str:
    """A rank's RNG and image-buffer file beside a checkpoint: ``iter_4.rank0.state``."""
    root, _ = osp.splitext(checkpoint_path)
    return f'{root}.rank{rank}.state'


# safetensors metadata of the weights files the Runner writes (see RDIDRunner's cleanup)
WRITTEN_BY = 'rdid_mm.RDIDRunner'
# ... and the key holding the JSON of what the weights were trained from (RDIDRunner.provenance)
PROVENANCE_KEY = 'rdid_mm_provenance'


def load_training_file(path: str, map_location='cpu'):
    """Read a training checkpoint or per-rank state file with ``weights_only=True``."""
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint file not found: {path}')
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{path}: refused to unpickle it: it holds more than tensors and plain types (a '
            'checkpoint of another tool or of an older rdid_mm, or a file whose pickle would run '
            'code); start from its weights with --load-from instead. Details: '
            f'{unpickling_detail(err)}') from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f'{path}: not a readable checkpoint ({err})') from None
    return from_plain(obj)


def save_training_file(obj, path: str) -> None:
    """Write training state (converted to tensors and plain types) atomically with torch.save."""
    plain = to_plain(obj, osp.basename(path))
    with atomic_open(path, 'wb') as f:
        torch.save(plain, f)


def weights_provenance(path: str) -> dict:
    """What a weights file was trained from (commit, config and annotation sha256, seed, package
    versions), as RDIDRunner recorded it; {} for a file without the record (another tool's)."""
    text = weights_file_metadata(path).get(PROVENANCE_KEY)
    if text is None:
        return {}
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        raise CheckpointError(f'{path}: unreadable {PROVENANCE_KEY} metadata') from None
    if not isinstance(record, dict):
        raise CheckpointError(f'{path}: {PROVENANCE_KEY} metadata is not a JSON object')
    return record


def _wrapped_children(model):
    """Names of the model's children that MMSeparateDistributedDataParallel wrapped in a DDP."""
    return [name for name, child in model.named_children() if is_model_wrapper(child)]


def unwrapped_state_dict(model) -> 'OrderedDict[str, torch.Tensor]':
    """``model.state_dict()`` with the keys it has outside DDP (``generators.module.gt.x`` ->
    ``generators.gt.x``), so weights and checkpoints are the same whatever the number of GPUs."""
    prefixes = [(f'{name}.module.', f'{name}.') for name in _wrapped_children(model)]
    out = OrderedDict()
    for key, value in model.state_dict().items():
        for wrapped, plain in prefixes:
            if key.startswith(wrapped):
                key = plain + key[len(wrapped):]
                break
        out[key] = value
    return out
