"""tools/train.py, tools/dist_train.sh and tools/test.py end to end on the tiny RDID-GAN config."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from rdid_mm.engine.checkpoint import load_state_dict_file
from tests.conftest import REPO_ROOT
from tests.engine.test_checkpoint import write_malicious_checkpoint
from tests.helpers import free_port

TINY_CONFIG = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                       'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


def data_options(deid_sample, max_iters):
    return [f'train_dataloader.dataset.data_root={deid_sample}',
            f'val_dataloader.dataset.data_root={deid_sample}',
            f'test_dataloader.dataset.data_root={deid_sample}',
            f'train_cfg.max_iters={max_iters}', 'custom_hooks=[]']


def run_tool(args, env=None, timeout=600):
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, f'{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result


@pytest.fixture(scope='module')
def trained_two_iters(deid_sample, tmp_path_factory):
    """Two iterations of the tiny RDID-GAN through tools/train.py; returns the work_dir."""
    work_dir = str(tmp_path_factory.mktemp('train') / 'tiny')
    run_tool([sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
              '--cfg-options', *data_options(deid_sample, 2)])
    return work_dir


def test_train_saves_a_checkpoint_and_a_weights_file(trained_two_iters):
    checkpoint = osp.join(trained_two_iters, 'iter_2.pth')
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    assert osp.isfile(checkpoint) and osp.isfile(weights)
    state = load_state_dict_file(weights)
    full = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert state.keys() == full.keys()
    assert all(torch.equal(state[k], full[k]) for k in state)


def test_resume_continues_from_iteration_2_to_4(trained_two_iters, deid_sample):
    result = run_tool([sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir',
                       trained_two_iters, '--resume', '--cfg-options',
                       *data_options(deid_sample, 4)])
    log = result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    assert osp.isfile(osp.join(trained_two_iters, 'iter_4.safetensors'))


def test_resume_refuses_a_checkpoint_outside_the_work_dir(trained_two_iters, deid_sample,
                                                          tmp_path):
    marker = tmp_path / 'code_ran'
    evil = write_malicious_checkpoint(str(tmp_path / 'evil.pth'), marker)
    result = subprocess.run(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', str(tmp_path / 'w'),
         '--resume', evil, '--cfg-options', *data_options(deid_sample, 2)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "only reads checkpoints from this run's work_dir" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize('loader', ['load_from', 'test.py'])
def test_code_running_pickle_is_refused_by_user_facing_loaders(loader, deid_sample, tmp_path):
    marker = tmp_path / 'code_ran'
    evil = write_malicious_checkpoint(str(tmp_path / 'evil.pth'), marker)
    if loader == 'load_from':
        args = [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', str(tmp_path / 'w'),
                '--load-from', evil, '--cfg-options', *data_options(deid_sample, 2)]
    else:
        args = [sys.executable, 'tools/test.py', TINY_CONFIG, evil, '--work-dir',
                str(tmp_path / 'w'), '--cfg-options', *data_options(deid_sample, 2)]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert 'evil.pth: refused to unpickle' in result.stderr
    assert not marker.exists()


def test_inference_api_refuses_code_running_pickle(tmp_path):
    from rdid_mm.apis import init_model
    from rdid_mm.engine.checkpoint import CheckpointError
    marker = tmp_path / 'code_ran'
    evil = write_malicious_checkpoint(str(tmp_path / 'evil.pth'), marker)
    with pytest.raises(CheckpointError, match='refused to unpickle'):
        init_model(TINY_CONFIG, evil)
    assert not marker.exists()


def test_inference_api_loads_weights_and_rejects_wrong_architecture(trained_two_iters, tmp_path):
    from rdid_mm.apis import init_model
    from rdid_mm.engine.checkpoint import CheckpointError, save_state_dict_file
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    model = init_model(TINY_CONFIG, weights)
    expected = load_state_dict_file(weights)
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    wrong = str(tmp_path / 'wrong.safetensors')
    save_state_dict_file({'conv.weight': torch.zeros(1)}, wrong)
    with pytest.raises(CheckpointError, match='wrong.safetensors: does not fit'):
        init_model(TINY_CONFIG, wrong)


def test_test_tool_prints_metrics_from_a_weights_file(trained_two_iters, deid_sample, tmp_path):
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    result = run_tool([sys.executable, 'tools/test.py', TINY_CONFIG, weights, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *data_options(deid_sample, 2)])
    assert '| metric | value |' in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU (gloo) path')
def test_dist_train_runs_two_cpu_processes_with_gloo(deid_sample, tmp_path):
    work_dir = str(tmp_path / 'dist')
    result = run_tool(['bash', 'tools/dist_train.sh', TINY_CONFIG, '2', '--work-dir', work_dir,
                       '--cfg-options', *data_options(deid_sample, 2)],
                      env={'PORT': str(free_port()), 'PYTHON': sys.executable})
    assert 'Distributed training: True' in result.stdout
    rank_logs = sorted(glob.glob(osp.join(work_dir, '*', '*_rank*.log')))
    assert [name[-9:] for name in rank_logs] == ['rank0.log', 'rank1.log'], rank_logs
    for rank_log in rank_logs:
        with open(rank_log) as f:
            assert 'Iter(train) [2/2]' in f.read(), rank_log
    assert osp.isfile(osp.join(work_dir, 'iter_2.safetensors'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message on CPU hosts')
def test_amp_on_cpu_says_it_needs_cuda(deid_sample, tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--amp', '--work-dir', str(tmp_path),
         '--cfg-options', *data_options(deid_sample, 2)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        'train.py: error: --amp needs a CUDA GPU')


def test_missing_checkpoint_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/test.py', TINY_CONFIG, str(tmp_path / 'none.safetensors')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'test.py: error: checkpoint file not found: {tmp_path / "none.safetensors"}')
    assert 'Traceback' not in result.stderr
