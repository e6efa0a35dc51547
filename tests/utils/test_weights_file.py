"""Weights files (rdid_mm.utils.weights_file) load without unpickling; files whose pickle would
run code are refused."""
import os
import os.path as osp

import pytest
import torch

from rdid_mm.utils.weights_file import (
    CheckpointError,
    load_state_dict_file,
    save_state_dict_file,
    weights_path_for,
)


class _RunsCode:
    """Unpickling this calls ``open(marker, 'w')``: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def write_malicious_checkpoint(path, marker):
    """A .pth whose pickle would create ``marker`` when loaded with weights_only=False."""
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'payload': _RunsCode(str(marker))}, path)
    return path


def test_safetensors_round_trip_is_exact_and_atomic(tmp_path):
    state = {'conv.weight': torch.randn(4, 3, 3, 3), 'conv.bias': torch.randn(4)}
    path = str(tmp_path / 'model.safetensors')
    save_state_dict_file(state, path)
    assert os.listdir(tmp_path) == ['model.safetensors']
    loaded = load_state_dict_file(path)
    assert loaded.keys() == state.keys()
    for key in state:
        assert torch.equal(loaded[key], state[key])


def test_tied_weights_are_saved(tmp_path):
    shared = torch.randn(3, 3)
    path = str(tmp_path / 'tied.safetensors')
    save_state_dict_file({'a': shared, 'b': shared}, path)
    loaded = load_state_dict_file(path)
    assert torch.equal(loaded['a'], loaded['b'])


def test_weights_only_pth_is_read_with_weights_only_true(tmp_path):
    path = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}}, path)
    assert torch.equal(load_state_dict_file(path)['w'], torch.ones(2))


def test_pickle_that_runs_code_is_refused_and_no_code_runs(tmp_path):
    marker = tmp_path / 'code_ran'
    path = write_malicious_checkpoint(str(tmp_path / 'evil.pth'), marker)
    with pytest.raises(CheckpointError, match='evil.pth: refused to unpickle') as info:
        load_state_dict_file(path)
    assert not marker.exists()
    # the detail names what the pickle would call, not torch's advice to unpickle it anyway
    assert 'GLOBAL' in str(info.value) and 'weights_only' not in str(info.value)
    assert '\n' not in str(info.value)


def test_full_checkpoint_refusal_points_at_the_weights_file(tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': {'hook': _RunsCode('x')}}, path)
    save_state_dict_file({'w': torch.ones(1)}, weights_path_for(path))
    with pytest.raises(CheckpointError, match=r'iter_2\.safetensors'):
        load_state_dict_file(path)


@pytest.mark.parametrize('name,content,message', [
    ('missing.safetensors', None, 'checkpoint file not found'),
    ('broken.safetensors', b'not a safetensors file', 'not a readable safetensors file'),
    ('broken.pth', b'garbage', 'broken.pth'),
])
def test_unusable_files_give_errors_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        load_state_dict_file(str(path))
    assert osp.basename(str(path)) in str(info.value)


def test_weights_path_for():
    assert weights_path_for('/w/iter_4.pth') == '/w/iter_4.safetensors'
    assert weights_path_for('best_coco_kpt_AP_iter_8.pth') == 'best_coco_kpt_AP_iter_8.safetensors'
