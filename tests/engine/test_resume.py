"""Exact resume: a seeded CPU run SIGKILLed right after a checkpoint, resumed, ends bit for bit
where the uninterrupted run ends (tools/train.py, the tiny RDID-GAN on the de-identified sample)."""
import os.path as osp
import signal
import sys

import pytest
import torch

from rdid_mm.utils.weights_file import load_state_dict_file

from tests.helpers import run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG, config_with_test_hooks, data_options


def train(args, expect_rc=0):
    result = run_tool([sys.executable, 'tools/train.py', *args], timeout=900)
    assert result.returncode == expect_rc, (
        f'{args}: rc {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
    return result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize('num_workers', [0, 2])
def test_sigkill_after_checkpoint_then_resume_equals_uninterrupted_run(num_workers, deid_sample,
                                                                       tmp_path):
    options = data_options(deid_sample, 4) + [f'train_dataloader.num_workers={num_workers}']
    straight, killed = str(tmp_path / 'straight'), str(tmp_path / 'killed')
    train([TINY_CONFIG, '--work-dir', straight, '--cfg-options', *options])

    # killed by a real SIGKILL right after the iteration-2 checkpoint is complete
    kill_config = config_with_test_hooks(
        tmp_path, TINY_CONFIG, [dict(type='KillAfterCheckpointHook', at_iter=2)])
    train([kill_config, '--work-dir', killed, '--cfg-options', *options[:-2], options[-1]],
          expect_rc=-signal.SIGKILL)
    assert osp.isfile(osp.join(killed, 'iter_2.pth'))
    assert not osp.exists(osp.join(killed, 'iter_4.pth'))

    log = train([TINY_CONFIG, '--work-dir', killed, '--resume', '--cfg-options', *options])
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'The sampler starts at sample 4 of the stream (iteration 2)' in log
    assert 'Restored the RNG states and GAN image buffers of this rank.' in log

    expected = load_state_dict_file(osp.join(straight, 'iter_4.safetensors'))
    resumed = load_state_dict_file(osp.join(killed, 'iter_4.safetensors'))
    assert expected.keys() == resumed.keys() and len(expected) > 100
    differing = [k for k in expected if not torch.equal(expected[k], resumed[k])]
    assert not differing, f'{len(differing)} of {len(expected)} tensors differ: {differing[:5]}'
    # the comparison is not vacuous: iterations 3 and 4 moved the weights
    at_two = load_state_dict_file(osp.join(killed, 'iter_2.safetensors'))
    assert any(not torch.equal(at_two[k], resumed[k]) for k in resumed)
