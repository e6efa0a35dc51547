"""tools/train.py, tools/dist_train.sh and tools/test.py end to end on the tiny RDID-GAN config."""
import glob
import os
import os.path as osp
import re
import sys

import pytest
import torch

from rdid_mm.utils.weights_file import load_state_dict_file

from tests.conftest import REPO_ROOT
from tests.helpers import free_port, run_tool
from tests.utils.test_weights_file import write_malicious_checkpoint

TINY_CONFIG = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                       'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')
TINY_CONFIGS = {
    'rdid_gan': TINY_CONFIG,
    'cyclegan': osp.join(REPO_ROOT, 'configs', 'cyclegan',
                         'cyclegan_lsgan-id0-resnet-in-tiny_1xb2-4i_deid-sample.py'),
    'pix2pix': osp.join(REPO_ROOT, 'configs', 'pix2pix',
                        'pix2pix_vanilla-unet-bn-tiny_1xb2-4i_deid-sample.py'),
}


def config_with_test_hooks(tmp_path, base, hooks):
    """A config inheriting ``base`` that adds the test-only hooks of
    tests/engine/hooks_for_tests."""
    path = tmp_path / 'with_test_hooks.py'
    path.write_text(
        f'_base_ = [{base!r}]\n'
        "custom_imports = dict(imports=['tests.engine.hooks_for_tests'], "
        'allow_failed_imports=False)\n'
        f'custom_hooks = {hooks!r}\n')
    return str(path)


def data_options(deid_sample, max_iters):
    return [f'train_dataloader.dataset.data_root={deid_sample}',
            f'val_dataloader.dataset.data_root={deid_sample}',
            f'test_dataloader.dataset.data_root={deid_sample}',
            f'train_cfg.max_iters={max_iters}', 'custom_hooks=[]']


def run_ok(args, env=None, timeout=600):
    """Run a tool (see :func:`tests.helpers.run_tool`) and assert it exits 0."""
    result = run_tool(args, timeout=timeout, env={**os.environ, **(env or {})})
    assert result.returncode == 0, (f'{args} failed:\n{result.stdout[-3000:]}\n'
                                    f'{result.stderr[-3000:]}')
    return result


@pytest.fixture(scope='module')
def trained_two_iters(deid_sample, tmp_path_factory):
    """Two iterations of the tiny RDID-GAN through tools/train.py; returns the work_dir."""
    work_dir = str(tmp_path_factory.mktemp('train') / 'tiny')
    run_ok([sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
              '--cfg-options', *data_options(deid_sample, 2)])
    return work_dir


@pytest.mark.slow
def test_train_saves_a_checkpoint_and_a_weights_file(trained_two_iters):
    checkpoint = osp.join(trained_two_iters, 'iter_2.pth')
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    assert osp.isfile(checkpoint) and osp.isfile(weights)
    state = load_state_dict_file(weights)
    full = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert state.keys() == full.keys()
    assert all(torch.equal(state[k], full[k]) for k in state)


@pytest.mark.slow
def test_resume_continues_from_iteration_2_to_4(trained_two_iters, deid_sample):
    result = run_ok([sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir',
                       trained_two_iters, '--resume', '--cfg-options',
                       *data_options(deid_sample, 4)])
    log = result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    assert osp.isfile(osp.join(trained_two_iters, 'iter_4.safetensors'))


@pytest.mark.slow
def test_resume_refuses_a_changed_global_batch_in_one_line(trained_two_iters, deid_sample):
    """The tiny config's checkpoint was trained at a global batch of 2; batch 1 would replay the
    stream from another sample. Refused before anything trains, naming both values."""
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', trained_two_iters,
         '--resume', '--cfg-options', *data_options(deid_sample, 6),
         'train_dataloader.batch_size=1'], timeout=600)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(rf'train\.py: error: {re.escape(trained_two_iters)}/iter_\d\.pth: cannot '
                        r'resume: global batch: checkpoint 2, this run 1 \(.*\)\. Continuing '
                        r'would repeat or skip training samples; .* --resume-allow-changes to '
                        r'continue anyway', last), last
    assert 'Traceback' not in result.stderr and 'Iter(train)' not in result.stdout


def test_checkpoint_and_rank_state_load_with_weights_only(trained_two_iters):
    checkpoint = torch.load(osp.join(trained_two_iters, 'iter_2.pth'), weights_only=True)
    assert checkpoint['meta']['iter'] == 2 and checkpoint['meta']['world_size'] == 1
    assert {'state_dict', 'message_hub', 'optimizer', 'param_schedulers'} <= checkpoint.keys()
    state = torch.load(osp.join(trained_two_iters, 'iter_2.rank0.state'), weights_only=True)
    assert state['world_size'] == 1
    # the tiny config's buffers hold 4 images; 2 iterations at batch 2 filled them
    for domain in ('gt', 'mosaic'):
        assert state['image_buffers'][domain]['images'].shape == (4, 3, 64, 64)


@pytest.mark.slow
@pytest.mark.parametrize('inside_work_dir', [True, False], ids=['in-work-dir', 'elsewhere'])
def test_resume_refuses_a_pickle_that_runs_code(deid_sample, tmp_path, inside_work_dir):
    """--resume reads with weights_only=True wherever the file lies: no code runs."""
    marker = tmp_path / 'code_ran'
    work_dir = tmp_path / 'w'
    work_dir.mkdir()
    folder = work_dir if inside_work_dir else tmp_path
    evil = write_malicious_checkpoint(str(folder / 'evil.pth'), marker)
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', str(work_dir),
         '--resume', evil, '--cfg-options', *data_options(deid_sample, 2)], timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        f'train.py: error: {evil}: refused to unpickle it')
    assert 'Traceback' not in result.stderr
    assert not marker.exists()


@pytest.mark.slow
def test_resume_with_load_from_is_one_clear_error(tmp_path):
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', str(tmp_path),
         '--resume', '--load-from', str(tmp_path / 'w.safetensors')], timeout=600)
    assert result.returncode == 2
    # the last stderr line (library import warnings may precede it), no traceback
    assert result.stderr.strip().splitlines()[-1] == (
        'train.py: error: --resume and --load-from cannot be used together: --resume continues '
        'a run (weights, optimisers, schedule, RNG); --load-from starts a new run from weights.')
    assert 'Traceback' not in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
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
    result = run_tool(args, timeout=600)
    assert result.returncode != 0
    assert 'evil.pth: refused to unpickle' in result.stderr
    assert not marker.exists()


def test_inference_api_refuses_code_running_pickle(tmp_path):
    from rdid_mm.apis import init_model
    from rdid_mm.utils.weights_file import CheckpointError
    marker = tmp_path / 'code_ran'
    evil = write_malicious_checkpoint(str(tmp_path / 'evil.pth'), marker)
    with pytest.raises(CheckpointError, match='refused to unpickle'):
        init_model(TINY_CONFIG, evil)
    assert not marker.exists()


def test_inference_api_loads_weights_and_rejects_wrong_architecture(trained_two_iters, tmp_path):
    from rdid_mm.apis import init_model
    from rdid_mm.utils.weights_file import CheckpointError, save_state_dict_file
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    model = init_model(TINY_CONFIG, weights)
    expected = load_state_dict_file(weights)
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    wrong = str(tmp_path / 'wrong.safetensors')
    save_state_dict_file({'conv.weight': torch.zeros(1)}, wrong)
    with pytest.raises(CheckpointError, match='wrong.safetensors: does not fit'):
        init_model(TINY_CONFIG, wrong)


@pytest.mark.slow
def test_test_tool_prints_metrics_from_a_weights_file(trained_two_iters, deid_sample, tmp_path):
    weights = osp.join(trained_two_iters, 'iter_2.safetensors')
    result = run_ok([sys.executable, 'tools/test.py', TINY_CONFIG, weights, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *data_options(deid_sample, 2)])
    assert '| metric | value |' in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU (gloo) path')
@pytest.mark.parametrize('model', sorted(TINY_CONFIGS))
def test_dist_train_keeps_every_parameter_identical_on_two_gloo_ranks(model, deid_sample,
                                                                      tmp_path):
    """3 iterations on 2 ranks through tools/dist_train.sh; each rank's final weights compared."""
    work_dir = str(tmp_path / 'dist')
    weights_dir = str(tmp_path / 'ranks')
    config = config_with_test_hooks(
        tmp_path, TINY_CONFIGS[model], [dict(type='SaveRankWeightsHook', out_dir=weights_dir)])
    options = data_options(deid_sample, 3)[:-1] + ['train_cfg.val_interval=100']
    run_ok(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work_dir,
                       '--cfg-options', *options],
                      env={'PORT': str(free_port()), 'PYTHON': sys.executable})
    rank_logs = sorted(glob.glob(osp.join(work_dir, '*', '*_rank*.log')))
    assert [name[-9:] for name in rank_logs] == ['rank0.log', 'rank1.log'], rank_logs
    for rank_log in rank_logs:
        with open(rank_log) as f:
            log = f.read()
        assert 'Iter(train) [3/3]' in log, rank_log
        assert 'Global batch 4 = 2 per GPU x 2 GPU(s)' in log, rank_log
    # MMEngine's environment dump is in the log file (rdid_mm keeps it off the console)
    with open(rank_logs[0]) as f:
        assert 'Distributed training: True' in f.read()
    rank0 = load_state_dict_file(osp.join(weights_dir, 'rank0.safetensors'))
    rank1 = load_state_dict_file(osp.join(weights_dir, 'rank1.safetensors'))
    assert rank0.keys() == rank1.keys()
    # BatchNorm running statistics (Pix2Pix) are per rank by design (docs/models.md); every
    # parameter and every other buffer must be bit-identical.
    per_rank = ('running_mean', 'running_var', 'num_batches_tracked')
    compared = [k for k in rank0 if not k.endswith(per_rank)]
    assert len(compared) > 20
    differing = [k for k in compared if not torch.equal(rank0[k], rank1[k])]
    assert not differing, f'{len(differing)} of {len(compared)} tensors differ: {differing[:5]}'
    # iteration 3 moved the weights, and the weights file has the keys of an unwrapped model
    at_two = load_state_dict_file(osp.join(work_dir, 'iter_2.safetensors'))
    assert at_two.keys() == rank0.keys() and not any('.module.' in k for k in at_two)
    assert any(not torch.equal(at_two[k], rank0[k]) for k in compared)


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message on CPU hosts')
def test_amp_on_cpu_says_it_needs_cuda(deid_sample, tmp_path):
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--amp', '--work-dir', str(tmp_path),
         '--cfg-options', *data_options(deid_sample, 2)], timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        'train.py: error: --amp needs a CUDA GPU')


@pytest.mark.slow
def test_missing_checkpoint_is_one_clear_line(tmp_path):
    result = run_tool(
        [sys.executable, 'tools/test.py', TINY_CONFIG, str(tmp_path / 'none.safetensors')])
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'test.py: error: checkpoint file not found: {tmp_path / "none.safetensors"}')
    assert 'Traceback' not in result.stderr
