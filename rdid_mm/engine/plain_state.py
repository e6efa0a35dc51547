"""Training state as tensors and plain types, so checkpoints load with ``weights_only=True``.

MMEngine checkpoints pickle ``HistoryBuffer`` objects (the message hub's logged scalars), numpy
arrays, numpy scalars and dtypes; reading those back needs ``torch.load(weights_only=False)``,
which runs whatever code a pickle names. :func:`to_plain` turns them into tagged dicts of tensors
and plain values before saving and :func:`from_plain` rebuilds them after a weights-only load, so
no checkpoint, wherever it comes from, runs code when read.
"""
from collections import OrderedDict

import numpy as np
import torch

_NDARRAY = '__ndarray__'
_NPSCALAR = '__np_scalar__'
_HISTORY = '__history_buffer__'
_PLAIN = (str, int, float, bool, type(None), torch.Tensor, torch.Size, torch.dtype,
          torch.device)


class NotPlainError(TypeError):
    """A value that cannot be stored without pickling code; the message names where it is."""


def to_plain(obj, where='checkpoint'):
    """A copy of ``obj`` made of tensors, str/int/float/bool/None, lists, tuples and dicts."""
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, np.generic):  # before _PLAIN: np.float64 is a float subclass
        return {_NPSCALAR: torch.from_numpy(np.asarray(obj).reshape(1).copy())}
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise NotPlainError(f'{where}: numpy object arrays cannot be stored weights-only')
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, HistoryBuffer):
        return {_HISTORY: dict(log_history=to_plain(obj._log_history, where),
                               count_history=to_plain(obj._count_history, where),
                               max_length=int(obj.max_length))}
    if isinstance(obj, dict):
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            if not isinstance(key, (str, int)):
                raise NotPlainError(f'{where}: key {key!r} is not a str or int')
            out[key] = to_plain(value, f'{where}.{key}')
        return out
    if isinstance(obj, (list, tuple)):
        items = [to_plain(value, f'{where}[{i}]') for i, value in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise NotPlainError(f'{where}: a {type(obj).__module__}.{type(obj).__name__} cannot be '
                        'stored in a weights-only checkpoint')


def from_plain(obj):
    """The inverse of :func:`to_plain`."""
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, dict):
        if len(obj) == 1 and _NDARRAY in obj:
            return obj[_NDARRAY].numpy().copy()
        if len(obj) == 1 and _NPSCALAR in obj:
            return obj[_NPSCALAR].numpy()[0]
        if len(obj) == 1 and _HISTORY in obj:
            state = obj[_HISTORY]
            return HistoryBuffer(from_plain(state['log_history']),
                                 from_plain(state['count_history']), state['max_length'])
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = from_plain(value)
        return out
    if isinstance(obj, list):
        return [from_plain(value) for value in obj]
    if isinstance(obj, tuple):
        return tuple(from_plain(value) for value in obj)
    return obj
