"""Hooks that only tests use: a SIGKILL after or inside a checkpoint save, rank weights, flags.

Imported by training subprocesses through ``custom_imports`` in a config the test writes.
"""
import os
import os.path as osp
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from rdid_mm.engine.checkpoint import unwrapped_state_dict
from rdid_mm.registry import HOOKS
from rdid_mm.utils.weights_file import save_state_dict_file


@HOOKS.register_module()
class KillAfterCheckpointHook(Hook):
    """SIGKILL this process after iteration ``at_iter``, once CheckpointHook has saved it."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) in after_train_iter

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    """Write this rank's final state_dict to ``out_dir/rank{R}.safetensors``."""

    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        save_state_dict_file(unwrapped_state_dict(model),
                             osp.join(self.out_dir, f'rank{get_rank()}.safetensors'))


@HOOKS.register_module()
class CudnnFlagHook(Hook):
    """Record ``torch.backends.cudnn.benchmark`` in training, validation and test iterations."""

    flags = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.flags.append(('train', torch.backends.cudnn.benchmark))

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self.flags.append(('val', torch.backends.cudnn.benchmark))

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self.flags.append(('test', torch.backends.cudnn.benchmark))


@HOOKS.register_module()
class KillInSaveHook(Hook):
    """SIGKILL this process inside the save of the iteration-``at_iter`` checkpoint.

    ``before_save_checkpoint`` runs after the rank-state file and before the ``.pth``: the kill
    lands where MMEngine's CheckpointHook has already deleted the oldest checkpoint.
    """

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['iter'] == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)
