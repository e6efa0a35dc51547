"""A NaN injected into the generator stops training at that iteration; the last good checkpoint stays."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from rdid_mm import apis
from rdid_mm.engine.checkpoint import load_state_dict_file
from rdid_mm.engine.hooks import NonFiniteLossError
from rdid_mm.registry import HOOKS
from tests.conftest import REPO_ROOT

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan', 'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


@HOOKS.register_module(force=True)
class InjectNaNHook(Hook):
    """Test only: fills the restoring generator's first conv weight with NaN before iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            model = runner.model.module if hasattr(runner.model, 'module') else runner.model
            next(model.generators['gt'].parameters()).data.fill_(float('nan'))


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(deid_sample, tmp_path):
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': deid_sample,
        'val_dataloader.dataset.data_root': deid_sample,
        'test_dataloader.dataset.data_root': deid_sample,
        'custom_hooks': [dict(type='InjectNaNHook', at=3)],
    })
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = apis.build_runner(cfg)
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert 'iteration 3' in message and 'loss' in message and 'nan' in message
    assert len(message.splitlines()) == 1
    assert osp.isfile(tmp_path / 'iter_2.pth')
    assert not osp.exists(tmp_path / 'iter_4.pth') and not osp.exists(tmp_path / 'iter_3.pth')
    weights = load_state_dict_file(str(tmp_path / 'iter_2.safetensors'))
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())


def test_finite_losses_pass():
    from rdid_mm.engine.hooks import NonFiniteLossHook
    NonFiniteLossHook().after_train_iter(
        runner=None, batch_idx=0, outputs={'loss_gan_g_gt': torch.tensor(0.5), 'lr': 1.0})
