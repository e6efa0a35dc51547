"""rdid_mm.apis.train: config loading, AMP switch, CPU-distributed wrapper settings."""
import os.path as osp

import pytest
import torch

from rdid_mm.apis import AmpUnavailableError, load_config
from rdid_mm.apis.train import enable_amp

from tests.tools.test_train_test_tools import TINY_CONFIG


def test_load_config_applies_options_and_default_work_dir():
    cfg = load_config(TINY_CONFIG, cfg_options={'train_cfg.max_iters': 7})
    assert cfg.train_cfg.max_iters == 7
    assert cfg.work_dir == osp.join('./work_dirs', osp.basename(TINY_CONFIG)[:-3])
    assert cfg.default_scope == 'rdid_mm' and cfg.runner_type == 'rdid_mm.engine.RDIDRunner'


def test_missing_config_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='config file not found: .*nope.py'):
        load_config(str(tmp_path / 'nope.py'))


def test_amp_switches_every_gan_optimiser_wrapper(monkeypatch):
    cfg = load_config(TINY_CONFIG)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    enable_amp(cfg)
    for name in ('generators', 'discriminators'):
        assert cfg.optim_wrapper[name]['type'] == 'AmpOptimWrapper'
        assert cfg.optim_wrapper[name]['loss_scale'] == 'dynamic'
    assert cfg.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'


def test_amp_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(AmpUnavailableError, match='needs a CUDA GPU'):
        enable_amp(load_config(TINY_CONFIG))
