"""Strict weights: a removed or an extra key is an error naming the file and the keys, in every
tool that restores; fine-tuning may load non-strictly, and says so."""
import os.path as osp
import sys

import pytest
import torch

from rdid_mm.apis import init_model
from rdid_mm.utils.weights_file import (
    WeightsMismatchError,
    apply_weights,
    load_state_dict_file,
    save_state_dict_file,
)

from tests.conftest import REPO_ROOT
from tests.helpers import random_weights_file, run_tool

TINY = osp.join(REPO_ROOT, 'configs', 'cyclegan',
                'cyclegan_lsgan-id0-resnet-in-tiny_1xb2-4i_deid-sample.py')


@pytest.fixture(scope='module')
def good_weights(tmp_path_factory):
    return random_weights_file(TINY, str(tmp_path_factory.mktemp('weights') / 'good.safetensors'))


def _variant(good, folder, name, edit):
    state = dict(load_state_dict_file(good))
    edit(state)
    path = str(folder / f'{name}.safetensors')
    save_state_dict_file(state, path)
    return path


def _generator_key(state):
    return next(k for k in state if k.startswith('generators.gt.') and k.endswith('weight'))


@pytest.fixture(scope='module')
def broken(good_weights, tmp_path_factory):
    folder = tmp_path_factory.mktemp('broken')
    state = load_state_dict_file(good_weights)
    removed = _generator_key(state)
    return dict(
        removed=(_variant(good_weights, folder, 'removed', lambda s: s.pop(removed)), removed),
        extra=(_variant(good_weights, folder, 'extra',
                        lambda s: s.update({'generators.gt.extra.weight': torch.zeros(2)})),
               'generators.gt.extra.weight'))


@pytest.mark.parametrize('kind', ['removed', 'extra'])
def test_init_model_names_file_and_key(kind, broken):
    path, key = broken[kind]
    word = 'missing' if kind == 'removed' else 'unexpected'
    with pytest.raises(WeightsMismatchError, match=rf'{path}: .* 1 {word} key\(s\): {key}'):
        init_model(TINY, path)


@pytest.mark.slow
@pytest.mark.parametrize('tool', ['test.py', 'restore.py'])
@pytest.mark.parametrize('kind', ['removed', 'extra'])
def test_tools_refuse_in_one_line(tool, kind, broken, deid_sample, tmp_path):
    path, key = broken[kind]
    extra = (['--cfg-options', f'data_root={deid_sample}', '--work-dir', str(tmp_path / 'w')]
             if tool == 'test.py' else
             ['--deid-dir', deid_sample, '--strength', '8', '--out', str(tmp_path / 'o')])
    result = run_tool([sys.executable, f'tools/{tool}', TINY, path] + extra, timeout=600)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error: {path}: does not fit the model') and key in last
    assert 'Traceback' not in result.stderr


def test_discriminator_keys_are_not_needed_to_restore(good_weights, tmp_path):
    """Test, evaluation and restoration use the gt generator only: a generator-only file loads."""
    path = _variant(good_weights, tmp_path, 'generator_only', lambda s: [
        s.pop(k) for k in list(s) if not k.startswith('generators.gt.')])
    model = init_model(TINY, path)
    expected = load_state_dict_file(path)
    for key, value in model.state_dict().items():
        if key.startswith('generators.gt.'):
            assert torch.equal(value, expected[key]), key


def test_at_most_five_keys_are_named(good_weights, tmp_path):
    path = _variant(good_weights, tmp_path, 'many', lambda s: s.update(
        {f'generators.gt.x{i}': torch.zeros(1) for i in range(8)}))
    with pytest.raises(WeightsMismatchError) as err:
        init_model(TINY, path)
    message = str(err.value)
    assert '8 unexpected key(s)' in message and 'and 3 more' in message
    assert message.count('generators.gt.x') == 5


def test_non_strict_loading_copies_what_fits():
    model = init_model(TINY)
    model.init_weights()
    state = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    removed = _generator_key(state)
    state.pop(removed)
    with pytest.raises(WeightsMismatchError):
        apply_weights(model, state, 'x.safetensors')
    before = model.state_dict()[removed].clone()
    problems = apply_weights(model, state, 'x.safetensors', strict=False)
    assert problems['missing'] == [removed] and not problems['unexpected']
    other = next(k for k in state if k.startswith('generators.gt.') and k != removed)
    assert torch.equal(model.state_dict()[other], state[other])
    assert torch.equal(model.state_dict()[removed], before)


@pytest.mark.slow
def test_load_from_is_strict_unless_load_from_strict_is_false(broken, deid_sample, tmp_path):
    path, key = broken['removed']
    base = [sys.executable, 'tools/train.py', TINY, '--load-from', path, '--cfg-options',
            f'data_root={deid_sample}', 'train_cfg.max_iters=1', 'custom_hooks=[]']
    strict = run_tool(base + ['--work-dir', str(tmp_path / 's')], timeout=600)
    assert strict.returncode != 0
    assert f'{path}: does not fit the model' in strict.stderr and key in strict.stderr
    loose = run_tool(base + ['load_from_strict=False', '--work-dir', str(tmp_path / 'l')])
    assert loose.returncode == 0, loose.stderr[-3000:]
    log = loose.stdout + loose.stderr
    assert 'non-strict loading (load_from_strict=False)' in log and key in log
