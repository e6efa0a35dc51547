"""Strict weights loading: a weights file must fit the modules that will use it.

A missing key leaves a randomly initialised layer in the network; an unexpected key means the file
belongs to another architecture. Either is an error naming the file and up to five keys, over the
modules each use needs: the restoring generator (``generators.gt.*``) for test, evaluation and
restoration; every module for ``resume`` and ``load_from``. Fine-tuning from weights of another
architecture is possible with ``load_from_strict=False`` in the config, and the keys left out
are logged.
"""
import glob
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import get_state_dict
from mmengine.runner.checkpoint import load_state_dict as load_into_model

from .checkpoint import CheckpointError, load_state_dict_file

MAX_KEYS_SHOWN = 5


class WeightsMismatchError(CheckpointError):
    """A weights file whose keys do not fit the model (the message names file and keys)."""


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
    """Copy ``state_dict`` into ``model``; see the module docstring for ``strict``.

    Args:
        source: the file name, for messages.
        prefixes: the modules that must be complete (e.g. ``['generators.gt.']``); None: all.
        revise_keys: (pattern, replacement) applied to the file's keys (DDP's ``module.``).
        what: names the model in messages (default: "the model (<class name>)").

    Returns the mismatches (empty lists when it fits).
    """
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


def resolve_weights_path(path: str) -> str:
    """A weights file, or a work_dir: then its best checkpoint's weights file
    (``best_<metric>_iter_<N>.safetensors``, written beside the one ``save_best`` keeps)."""
    if not osp.isdir(path):
        return path
    found = glob.glob(osp.join(path, 'best_*.safetensors'))
    if not found:
        raise CheckpointError(f'{path}: a work_dir without a best_*.safetensors weights file '
                              '(save_best writes one at validation); give a weights file')

    def iteration(name):
        match = re.search(r'_(\d+)\.safetensors$', name)
        return int(match.group(1)) if match else -1
    return max(found, key=iteration)
