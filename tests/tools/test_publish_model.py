"""tools/publish_model.py names a weights file by its sha256; loaders refuse a file that differs."""
import hashlib
import sys

import pytest
import torch

from rdid_mm.utils.weights_file import (
    CheckpointError,
    check_hash_suffix,
    load_state_dict_file,
    save_state_dict_file,
)

from tests.helpers import load_tool, run_tool

publish_weights = load_tool('publish_model').publish_weights


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / 'iter_4.safetensors'
    state = {'generators.gt.conv.weight': torch.arange(12.).reshape(3, 4),
             'discriminators.gt.conv.bias': torch.ones(3)}
    save_state_dict_file(state, str(path), metadata={'note': 'kept'})
    return path, state


def test_published_name_carries_the_files_own_sha256(weights, tmp_path):
    path, state = weights
    out = publish_weights(str(path), str(tmp_path / 'pub' / 'rdid_gan_tiny'))
    digest = hashlib.sha256(open(out, 'rb').read()).hexdigest()
    assert out.endswith(f'rdid_gan_tiny-{digest[:8]}.safetensors')
    loaded = load_state_dict_file(out)
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    from safetensors import safe_open
    with safe_open(out, framework='pt') as f:
        assert f.metadata()['note'] == 'kept'


@pytest.mark.slow
def test_the_tool_uses_the_weights_file_beside_a_checkpoint(weights, tmp_path):
    path, _ = weights
    (tmp_path / 'iter_4.pth').write_bytes(b'not read: its weights file is used')
    result = run_tool([sys.executable, 'tools/publish_model.py', str(tmp_path / 'iter_4.pth'),
                       str(tmp_path / 'model')])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(tmp_path / 'model-'))
    again = run_tool([sys.executable, 'tools/publish_model.py', str(path),
                      str(tmp_path / 'model')], fresh_interpreter=True)
    assert again.returncode != 0
    assert again.stderr.strip().splitlines()[-1].startswith('publish_model.py: error:')
    assert 'exists already' in again.stderr


def test_a_corrupted_or_renamed_published_file_is_refused(weights, tmp_path):
    path, _ = weights
    out = publish_weights(str(path), str(tmp_path / 'model'))
    data = bytearray(open(out, 'rb').read())
    data[-1] ^= 0xFF
    open(out, 'wb').write(bytes(data))
    with pytest.raises(CheckpointError, match='hashes to'):
        load_state_dict_file(out)
    renamed = tmp_path / 'other-deadbeef.safetensors'
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match='deadbeef'):
        check_hash_suffix(str(renamed))
    check_hash_suffix(str(path))  # no suffix: nothing to check
