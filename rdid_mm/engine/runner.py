"""``RDIDRunner``: MMEngine's Runner with rdid_mm's checkpoint policy and per-rank logs.

- every checkpoint it saves gets a weights file beside it (``iter_4.pth`` -> ``iter_4.safetensors``);
- ``load_from`` and ``Runner.load_checkpoint`` read weights files only (no unpickling of code);
- ``resume`` unpickles full training state, but only from the run's own work_dir.
"""
import glob
import os
import os.path as osp

import torch
from mmengine.dist import master_only
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from rdid_mm.registry import RUNNERS
from .checkpoint import (CheckpointError, load_state_dict_file, save_state_dict_file,
                         weights_path_for)
from .weights import apply_weights


def _is_inside(path: str, folder: str) -> bool:
    path, folder = osp.realpath(path), osp.realpath(folder)
    return osp.commonpath([path, folder]) == folder


@RUNNERS.register_module()
class RDIDRunner(Runner):
    """Runner that writes a safetensors weights file with each checkpoint and loads safely."""

    _trusted_checkpoint = None

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        """MMEngine's logger, with one log file per rank in distributed runs (rank 0's as usual)."""
        kwargs.setdefault('distributed', True)
        return super().build_logger(log_level, log_file, **kwargs)

    def resume(self, filename, resume_optimizer=True, resume_param_scheduler=True,
               map_location='default'):
        """Resume full training state; refused for files outside this run's work_dir."""
        if not _is_inside(filename, self.work_dir):
            raise CheckpointError(
                f'{filename}: --resume unpickles full training state, so it only reads '
                f"checkpoints from this run's work_dir ({self.work_dir}). To start from weights "
                'of another run, use load_from with its .safetensors weights file.')
        self._trusted_checkpoint = osp.realpath(filename)
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._trusted_checkpoint = None

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):
        """Load model weights; full state only for the checkpoint ``resume`` vetted."""
        if self._trusted_checkpoint == osp.realpath(filename):
            checkpoint = torch.load(filename, map_location=map_location, weights_only=False)
        else:
            checkpoint = {'state_dict': load_state_dict_file(filename, map_location='cpu')}
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        # strict over every module (resume, load_from); load_from_strict=False for fine-tuning
        strict = self._trusted_checkpoint is not None or self.cfg.get('load_from_strict', True)
        apply_weights(model, checkpoint['state_dict'], filename, strict=strict,
                      revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @master_only
    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        """Save the full checkpoint, then its weights file; drop weights of deleted checkpoints."""
        super().save_checkpoint(out_dir, filename, *args, **kwargs)
        if '://' in out_dir:
            return
        model = self.model.module if is_model_wrapper(self.model) else self.model
        weights_file = weights_path_for(osp.join(out_dir, filename))
        save_state_dict_file(model.state_dict(), weights_file)
        self.logger.info(f'Weights file saved to {weights_file}')
        self._remove_orphan_weights(out_dir)

    @staticmethod
    def _remove_orphan_weights(out_dir):
        """CheckpointHook's ``max_keep_ckpts`` deletes old ``.pth`` files; delete their weights."""
        for weights_file in glob.glob(osp.join(out_dir, '*.safetensors')):
            stem = weights_file[:-len('.safetensors')]
            if not glob.glob(stem + '.pth'):
                os.remove(weights_file)
