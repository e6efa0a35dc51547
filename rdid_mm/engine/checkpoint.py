"""Checkpoint policy: weights files load without unpickling code.

Every checkpoint the Runner saves gets a weights file beside it (``<name>.safetensors``: the model's
state_dict as plain tensors). Anything a user points at — ``load_from``, ``tools/test.py``, the
inference API, a detector checkpoint — is read with :func:`load_state_dict_file`, which accepts
safetensors files and ``.pth`` files that ``torch.load(weights_only=True)`` can read. The full
training state (optimisers, message hub, schedulers, per-rank RNG and image-buffer files) is stored
as tensors and plain types (:mod:`rdid_mm.engine.plain_state`) and read by ``--resume`` with
:func:`load_training_file`, also ``weights_only=True``: no checkpoint runs code when read.
"""
import json
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Optional

import torch

from .publish import check_hash_suffix


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


def weights_path_for(checkpoint_path: str) -> str:
    """The weights file written beside a full checkpoint: ``iter_4.pth`` -> ``iter_4.safetensors``."""
    root, _ = osp.splitext(checkpoint_path)
    return root + '.safetensors'


def rank_state_path_for(checkpoint_path: str, rank: int) -> str:
    """A rank's RNG and image-buffer file beside a checkpoint: ``iter_4.rank0.state``."""
    root, _ = osp.splitext(checkpoint_path)
    return f'{root}.rank{rank}.state'


# safetensors metadata of the weights files the Runner writes (see RDIDRunner's cleanup)
WRITTEN_BY = 'rdid_mm.RDIDRunner'
# ... and the key holding the JSON of what the weights were trained from (RDIDRunner.provenance)
PROVENANCE_KEY = 'rdid_mm_provenance'


def _unpickling_detail(err: Exception) -> str:
    """The line of torch's refusal that names what the pickle holds (``GLOBAL posix.system``);
    not its first line, which advises ``weights_only=False``: running the pickle's code."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if 'GLOBAL' in line or 'Unsupported' in line:
            return line
    return next((line for line in lines if 'weights_only' not in line), 'no details')


def load_training_file(path: str, map_location='cpu'):
    """Read a training checkpoint or per-rank state file with ``weights_only=True``."""
    from .plain_state import from_plain
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint file not found: {path}')
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{path}: refused to unpickle it: it holds more than tensors and plain types (a '
            'checkpoint of another tool or of an older rdid_mm, or a file whose pickle would run '
            'code); start from its weights with --load-from instead. Details: '
            f'{_unpickling_detail(err)}') from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f'{path}: not a readable checkpoint ({err})') from None
    return from_plain(obj)


def save_training_file(obj, path: str) -> None:
    """Write training state (converted to tensors and plain types) atomically with torch.save."""
    from .plain_state import to_plain
    plain = to_plain(obj, osp.basename(path))
    from rdid_mm.utils.io import atomic_open
    with atomic_open(path, 'wb') as f:
        torch.save(plain, f)


def weights_file_metadata(path: str) -> dict:
    """The metadata of a safetensors file ({} if it has none or cannot be read)."""
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(path, framework='pt') as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError):
        return {}


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


def load_state_dict_file(path: str, map_location='cpu') -> 'OrderedDict[str, torch.Tensor]':
    """Read a state_dict from a weights file without running any pickled code.

    Accepts ``.safetensors`` files, and ``.pth``/``.pt``/``.bin`` files readable with
    ``torch.load(weights_only=True)`` (a plain state_dict, or a dict holding one under
    ``state_dict``/``model``). A full MMEngine checkpoint is refused with a message pointing at the
    weights file written beside it.
    """
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint file not found: {path}')
    check_hash_suffix(path)
    if path.endswith('.safetensors'):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return OrderedDict(load_file(path, device=str(map_location)))
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(f'{path}: not a readable safetensors file ({err})') from None
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        hint = ''
        if osp.isfile(weights_path_for(path)):
            hint = f'; load the weights file beside it instead: {weights_path_for(path)}'
        raise CheckpointError(
            f'{path}: refused to unpickle it: it is not a weights-only file (a full training '
            f'checkpoint, or a file whose pickle would run code){hint}. Details: '
            f'{_unpickling_detail(err)}') from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f'{path}: not a readable checkpoint ({err})') from None
    return _extract_state_dict(obj, path)


def _wrapped_children(model):
    """Names of the model's children that MMSeparateDistributedDataParallel wrapped in a DDP."""
    from mmengine.model import is_model_wrapper
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


def keys_for_model(state_dict, model) -> 'OrderedDict[str, torch.Tensor]':
    """The inverse of :func:`unwrapped_state_dict`: keys as the (possibly wrapped) model has them."""
    names = _wrapped_children(model)
    out = OrderedDict()
    for key, value in state_dict.items():
        for name in names:
            if key.startswith(f'{name}.') and not key.startswith(f'{name}.module.'):
                key = f'{name}.module.' + key[len(name) + 1:]
                break
        out[key] = value
    return out


def _extract_state_dict(obj, path):
    if isinstance(obj, dict):
        for key in ('state_dict', 'model'):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise CheckpointError(f'{path}: holds no state_dict of tensors')
    return OrderedDict(obj)


def state_dict_bytes(state_dict, metadata: Optional[dict] = None) -> bytes:
    """A state_dict as the bytes of a safetensors file (tensors on the CPU, tied ones untied)."""
    from safetensors.torch import save
    tensors = OrderedDict(
        (k, v.detach().to('cpu').contiguous()) for k, v in state_dict.items())
    return save(_untie_shared_storage(tensors), metadata=metadata)


def save_state_dict_file(state_dict, path: str, metadata: Optional[dict] = None) -> None:
    """Write a state_dict as safetensors (with string ``metadata``), atomically
    (``rdid_mm.utils.io.atomic_write``: fsynced, then renamed)."""
    from rdid_mm.utils.io import atomic_write
    atomic_write(path, state_dict_bytes(state_dict, metadata))


def _untie_shared_storage(tensors):
    """safetensors refuses tensors that share memory (tied weights): give each its own copy."""
    seen = set()
    out = OrderedDict()
    for key, value in tensors.items():
        ptr = value.untyped_storage().data_ptr() if value.numel() else None
        out[key] = value.clone() if ptr in seen else value
        if ptr is not None:
            seen.add(ptr)
    return out
