"""Training state as tensors and plain types: a weights-only round trip that keeps every value."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from rdid_mm.engine.checkpoint import load_training_file, save_training_file
from rdid_mm.engine.plain_state import NotPlainError, from_plain, to_plain
from rdid_mm.utils.weights_file import CheckpointError


def test_message_hub_like_state_round_trips_through_weights_only_load(tmp_path):
    buffer = HistoryBuffer([0.5, 0.25, 0.125], [1, 1, 2], max_length=10)
    state = OrderedDict(
        log_scalars={'train/loss': buffer},
        runtime_info={'iter': 4, 'best': np.float64(0.75), 'ids': np.arange(3, dtype=np.int32),
                      'shape': (2, 3), 'name': 'x', 'none': None},
        tensor=torch.arange(4.0))
    path = str(tmp_path / 'state.pth')
    save_training_file(state, path)
    torch.load(path, weights_only=True)  # loads without any allow-listed global
    loaded = load_training_file(path)
    restored = loaded['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer) and restored.max_length == 10
    assert np.array_equal(restored._log_history, buffer._log_history)
    assert np.array_equal(restored._count_history, buffer._count_history)
    assert restored.mean() == buffer.mean()
    info = loaded['runtime_info']
    assert info['best'] == np.float64(0.75) and info['best'].dtype == np.float64
    assert info['ids'].dtype == np.int32 and info['ids'].tolist() == [0, 1, 2]
    assert info['shape'] == (2, 3) and info['name'] == 'x' and info['none'] is None
    assert torch.equal(loaded['tensor'], torch.arange(4.0))
    assert [p.name for p in tmp_path.iterdir()] == ['state.pth']


def test_a_value_that_needs_pickled_code_is_refused_at_save_naming_its_place():
    with pytest.raises(NotPlainError, match=r'ckpt.meta.hook: a builtins.object cannot be stored'):
        to_plain({'meta': {'hook': object()}}, 'ckpt')


def test_from_plain_leaves_ordinary_dicts_alone():
    assert from_plain({'a': [1, (2, 3)], 'b': {'c': 'd'}}) == {'a': [1, (2, 3)], 'b': {'c': 'd'}}


def test_old_format_checkpoint_is_refused_with_a_hint(tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    torch.save({'message_hub': {'log_scalars': {'loss': HistoryBuffer([1.0], [1])}}}, path)
    with pytest.raises(CheckpointError, match=r'iter_2.pth: refused to unpickle it.*--load-from'):
        load_training_file(path)
