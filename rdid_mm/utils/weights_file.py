"""Weights files: read, written and applied to a model without unpickling code.

A weights file is a model's state_dict alone: ``.safetensors`` (the Runner writes one beside each
checkpoint, ``iter_4.pth`` -> ``iter_4.safetensors``), or a ``.pth``/``.pt``/``.bin`` file that
``torch.load(weights_only=True)`` can read. Anything a user points at (``load_from``,
``tools/test.py``, the inference API, a detector, DSFD) is read with :func:`load_state_dict_file`
and applied strictly with :func:`apply_weights`: a missing key would leave a random layer, an
unexpected one means another architecture; either is an error naming the file and up to five keys.

It sits below every package (evaluation and deid read weights too); the checkpoint policy that
uses it (training state, provenance, the work_dir's best file) is :mod:`rdid_mm.engine`.
"""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log

from .io import atomic_write
from .provenance import file_sha256

#: a published file's name: ``NAME-<first 8 hex digits of its sha256>.EXT`` (OpenMMLab's rule)
HASH_SUFFIX = re.compile(r'-([0-9a-f]{8})\.(safetensors|pth|pt|bin)$')
MAX_KEYS_SHOWN = 5


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


class WeightsMismatchError(CheckpointError):
    """A weights file whose keys do not fit the model (the message names file and keys)."""


def weights_path_for(checkpoint_path: str) -> str:
    """The weights file beside a full checkpoint: ``iter_4.pth`` -> ``iter_4.safetensors``."""
    root, _ = osp.splitext(checkpoint_path)
    return root + '.safetensors'


def check_hash_suffix(path: str) -> None:
    """Refuse a file named ``NAME-xxxxxxxx.EXT`` whose sha256 does not start with ``xxxxxxxx``:
    a truncated, corrupted or swapped published file is refused by name before it is read."""
    match = HASH_SUFFIX.search(osp.basename(path))
    if match is None:
        return
    actual = file_sha256(path)
    if not actual.startswith(match.group(1)):
        raise CheckpointError(
            f'{path}: its name says sha256 {match.group(1)}..., but the file hashes to '
            f'{actual[:8]}... (corrupted, truncated or replaced); download or publish it again')


def unpickling_detail(err: Exception) -> str:
    """The line of torch's refusal that names what the pickle holds (``GLOBAL posix.system``);
    not its first line, which advises ``weights_only=False``: running the pickle's code."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if 'GLOBAL' in line or 'Unsupported' in line:
            return line
    return next((line for line in lines if 'weights_only' not in line), 'no details')


def weights_file_metadata(path: str) -> dict:
    """The metadata of a safetensors file ({} if it has none or cannot be read)."""
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(path, framework='pt') as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError):
        return {}


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
            f'{unpickling_detail(err)}') from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f'{path}: not a readable checkpoint ({err})') from None
    return _extract_state_dict(obj, path)


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


def _shown(keys: Sequence[str]) -> str:
    more = f' and {len(keys) - MAX_KEYS_SHOWN} more' if len(keys) > MAX_KEYS_SHOWN else ''
    return ', '.join(keys[:MAX_KEYS_SHOWN]) + more


def compare_keys(model_state: Dict[str, torch.Tensor], file_state: Dict[str, torch.Tensor],
                 prefixes: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """Missing (among the keys under ``prefixes``; all keys if None), unexpected, and
    shape-mismatched keys of ``file_state`` against ``model_state``."""
    required = [k for k in model_state
                if prefixes is None or any(k.startswith(p) for p in prefixes)]
    return dict(
        missing=[k for k in required if k not in file_state],
        unexpected=[k for k in file_state if k not in model_state],
        shape=[k for k in file_state if k in model_state
               and tuple(file_state[k].shape) != tuple(model_state[k].shape)])


def describe_mismatch(source: str, model_name: str, problems: Dict[str, List[str]],
                      what: Optional[str] = None) -> str:
    """``FILE: does not fit the model (Name): ...``; ``what`` replaces "the model (Name)"."""
    parts = []
    if problems['missing']:
        parts.append(f'{len(problems["missing"])} missing key(s): {_shown(problems["missing"])}')
    if problems['unexpected']:
        parts.append(f'{len(problems["unexpected"])} unexpected key(s): '
                     f'{_shown(problems["unexpected"])}')
    if problems['shape']:
        parts.append(f'{len(problems["shape"])} key(s) with another shape: '
                     f'{_shown(problems["shape"])}')
    return f'{source}: does not fit {what or f"the model ({model_name})"}: ' + '; '.join(parts)


def apply_weights(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor], source: str,
                  prefixes: Optional[Sequence[str]] = None, strict: bool = True,
                  revise_keys=((r'^module\.', ''), ),
                  what: Optional[str] = None) -> Dict[str, List[str]]:
    """Copy ``state_dict`` into ``model``, strictly unless ``strict=False`` (fine-tuning from
    another architecture: ``load_from_strict=False``), which logs the keys left out.

    Args:
        source: the file name, for messages.
        prefixes: the modules that must be complete (e.g. ``['generators.gt.']``: the restoring
            generator for test and restoration); None: all.
        revise_keys: (pattern, replacement) applied to the file's keys (DDP's ``module.``).
        what: names the model in messages (default: "the model (<class name>)").

    Returns the mismatches (empty lists when it fits).
    """
    # mmengine.runner costs a second at import: deid and evaluation import this module too
    from mmengine.runner.checkpoint import get_state_dict
    from mmengine.runner.checkpoint import load_state_dict as load_into_model
    for pattern, replacement in revise_keys:
        state_dict = {re.sub(pattern, replacement, k): v for k, v in state_dict.items()}
    model_state = get_state_dict(model)  # keys without the DDP wrappers of sub-modules
    problems = compare_keys(model_state, state_dict, prefixes)
    if any(problems.values()):
        message = describe_mismatch(source, type(model).__name__, problems, what)
        if strict:
            raise WeightsMismatchError(message)
        print_log(f'non-strict loading (load_from_strict=False): {message}; these keys keep '
                  'their initial values or are ignored', logger='current', level=30)
    merged = dict(model_state)  # what the file lacks keeps its current value
    merged.update({k: v for k, v in state_dict.items()
                   if k in model_state and k not in problems['shape']})
    load_into_model(model, merged, strict=True)
    return problems


def load_weights(model: torch.nn.Module, path: str, prefixes: Optional[Sequence[str]] = None,
                 strict: bool = True, what: Optional[str] = None) -> Dict[str, List[str]]:
    """Read a weights file (no unpickling of code) and :func:`apply_weights` it."""
    return apply_weights(model, load_state_dict_file(path, map_location='cpu'), path, prefixes,
                         strict, what=what)
