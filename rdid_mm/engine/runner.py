"""``RDIDRunner``: MMEngine's Runner with rdid_mm's checkpoint policy, gradient sync and exact
resume.

- every checkpoint it saves gets a weights file beside it (``iter_4.pth`` -> ``iter_4.safetensors``)
  and one state file per rank (``iter_4.rank0.state``: RNG states and GAN image buffers); the
  weights file's metadata records the training split (``rdid_mm.datasets.training_split``), so
  the restore, table and privacy tools can tell a model's own training images from held-out ones,
  and the run's provenance (commit, config and annotation sha256, seed, package versions:
  ``checkpoint.weights_provenance`` reads it back);
- every file it writes holds tensors and plain types only and is written atomically; every file it
  reads (``load_from``, ``--resume``) is read with ``torch.load(weights_only=True)`` or safetensors,
  so no checkpoint runs code, wherever it comes from;
- GAN sub-networks wrapped separately (mmagic calls them past their DDP wrappers) get their
  gradients averaged over ranks before each optimiser step (:mod:`rdid_mm.engine.distributed`);
- ``--resume`` refuses a checkpoint saved under another global batch, training set length or
  seed (they place every sample in the stream), unless ``resume_allow_changes`` is set;
- the learning rate scales with the real global batch when ``auto_scale_lr.enable`` is set;
- cuDNN autotuning (``env_cfg.cudnn_benchmark``) applies to training only: validation and test
  images differ in size, so ``val()`` and ``test()`` run with it off.
"""
import glob
import json
import os
import os.path as osp
import re
import time

import mmengine
from mmengine.dist import barrier, get_rank, get_world_size, is_main_process
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner import Runner
from mmengine.runner.checkpoint import weights_to_cpu

from rdid_mm.datasets.training_split import METADATA_KEY, training_split_metadata
from rdid_mm.registry import RUNNERS
from rdid_mm.utils.provenance import code_commit, config_text_sha256, package_versions
from rdid_mm.utils.weights_file import (
    CheckpointError,
    apply_weights,
    load_state_dict_file,
    save_state_dict_file,
    weights_file_metadata,
    weights_path_for,
)
from rdid_mm.version import __version__

from .checkpoint import (
    PROVENANCE_KEY,
    WRITTEN_BY,
    load_training_file,
    rank_state_path_for,
    save_training_file,
    unwrapped_state_dict,
)
from .console import keep_dumps_off_console
from .cudnn import cudnn_benchmark_off
from .distributed import needs_gradient_sync, sync_gradients_before_step
from .resume_state import capture_image_buffers, capture_rng_state
from .train_loop import ALLOW_RESUME_CHANGES, check_resume_matches

_RANK_STATE = re.compile(r'^(?P<root>.+)\.rank\d+\.state$')


@RUNNERS.register_module()
class RDIDRunner(Runner):
    """Runner with safe checkpoints, synchronised GAN gradients and exact resume."""

    _resuming = None
    _resume_rank_state = None

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        """MMEngine's logger: one log file per rank, start-up dumps in the file only
        (console.py)."""
        kwargs.setdefault('distributed', True)
        return keep_dumps_off_console(super().build_logger(log_level, log_file, **kwargs))

    # ------------------------------------------------------------------ distributed training
    def build_optim_wrapper(self, optim_wrapper):
        """MMEngine's optimiser wrappers, averaging gradients over ranks where DDP does not."""
        optim_wrapper = super().build_optim_wrapper(optim_wrapper)
        if needs_gradient_sync(self.model) and not getattr(self, '_logged_sync', False):
            self.logger.info(
                f'Gradients of every optimiser are averaged over {get_world_size()} ranks before '
                'each step (the sub-networks are called past their DDP wrappers).')
            self._logged_sync = True
        if needs_gradient_sync(self.model):
            sync_gradients_before_step(optim_wrapper)
        return optim_wrapper

    def scale_lr(self, optim_wrapper, auto_scale_lr=None):
        """Warn when the global batch is not the learning rate's base; scale it if enabled."""
        base = (auto_scale_lr or {}).get('base_batch_size')
        real = getattr(self.train_loop, 'global_batch_size', None)
        if real is None:
            per_gpu = self.train_dataloader.batch_size
            real = per_gpu * self.world_size if per_gpu else None
        if base is None or real is None or real == base:
            return
        if not auto_scale_lr.get('enable', False):
            self.logger.warning(
                f'The global batch is {real}, but the learning rate was set for a global batch of '
                f'{base} (auto_scale_lr.base_batch_size); it is not scaled. Pass --auto-scale-lr '
                f'to scale it by {real}/{base}.')
            return
        ratio = real / base
        self.logger.info(f'Scaling the learning rate by {real}/{base} = {ratio:g} (the global '
                         f'batch over auto_scale_lr.base_batch_size).')
        wrappers = list(optim_wrapper.values()) if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper]
        for wrapper in wrappers:
            for group in wrapper.optimizer.param_groups:
                group['lr'] = group['lr'] * ratio

    # ------------------------------------------------------------------ val / test
    def val(self):
        """MMEngine's ``val`` with cuDNN autotuning off (whole images of varying size)."""
        with cudnn_benchmark_off():
            return super().val()

    def test(self):
        """MMEngine's ``test`` with cuDNN autotuning off (whole images of varying size)."""
        with cudnn_benchmark_off():
            return super().test()

    # ------------------------------------------------------------------ loading
    def resume(self, filename, resume_optimizer=True, resume_param_scheduler=True,
               map_location='default'):
        """Resume full training state (read weights-only) and this rank's RNG/buffer state."""
        self._resuming = osp.realpath(filename)
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._resuming = None
        self._resume_rank_state = self._read_rank_state(filename)

    def _read_rank_state(self, filename):
        path = rank_state_path_for(filename, get_rank())
        if not osp.isfile(path):
            self.logger.warning(
                f'{path} not found: the RNG streams and GAN image buffers start afresh, so the '
                'resumed run is not bit for bit the uninterrupted one.')
            return None
        state = load_training_file(path)
        if state.get('world_size') != get_world_size():
            self.logger.warning(
                f'{path} was written by a run on {state.get("world_size")} ranks, this one has '
                f'{get_world_size()}: the RNG streams and GAN image buffers start afresh.')
            return None
        return state

    def _check_resume_matches(self, filename, meta):
        """Refuse a checkpoint saved under another global batch, training set length or seed
        (``resume_allow_changes=True``, ``--resume-allow-changes``: a logged warning instead)."""
        loop = self.train_loop
        current = dict(seed=self._randomness_cfg.get('seed'))
        for key in ('global_batch_size', 'num_samples'):
            if getattr(loop, key, None) is not None:
                current[key] = getattr(loop, key)
        check_resume_matches(filename, meta, current,
                             allow=bool(self.cfg.get(ALLOW_RESUME_CHANGES, False)))

    def pop_resume_rank_state(self):
        """This rank's saved RNG/buffer state of the resumed checkpoint, once (None if none)."""
        state, self._resume_rank_state = self._resume_rank_state, None
        return state

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):
        """Load weights (any weights file), or the full training state for ``resume``."""
        if self._resuming == osp.realpath(filename):
            checkpoint = load_training_file(filename, map_location=map_location)
            self._check_resume_matches(filename, checkpoint.get('meta') or {})
        else:
            checkpoint = {'state_dict': load_state_dict_file(filename, map_location='cpu')}
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        # strict over every module (resume, load_from); load_from_strict=False for fine-tuning
        strict = self._resuming is not None or self.cfg.get('load_from_strict', True)
        apply_weights(model, checkpoint['state_dict'], filename, strict=strict,
                      revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    # ------------------------------------------------------------------ saving
    def save_checkpoint(self, out_dir, filename, file_client_args=None, save_optimizer=True,
                        save_param_scheduler=True, meta=None, by_epoch=True, backend_args=None):
        """Write each rank's state file, then (rank 0) the checkpoint and its weights file.

        Called on every rank (CheckpointHook does). The checkpoint file comes last, so a complete
        checkpoint means complete state files beside it.
        """
        if '://' in out_dir or file_client_args is not None or backend_args is not None:
            raise CheckpointError(f'{out_dir}: RDIDRunner writes checkpoints to local folders only')
        path = osp.join(out_dir, filename)
        save_training_file(self._rank_state(), rank_state_path_for(path, get_rank()))
        barrier()
        if is_main_process():
            checkpoint = self._checkpoint_dict(save_optimizer, save_param_scheduler, meta,
                                               by_epoch)
            self.call_hook('before_save_checkpoint', checkpoint=checkpoint)
            save_training_file(checkpoint, path)
            model = self.model.module if is_model_wrapper(self.model) else self.model
            weights_file = weights_path_for(path)
            metadata = dict(written_by=WRITTEN_BY, checkpoint=osp.basename(path))
            record = self._training_split_record()
            if record is not None:
                metadata[METADATA_KEY] = json.dumps(record, sort_keys=True)
            metadata[PROVENANCE_KEY] = json.dumps(self.provenance(), sort_keys=True)
            save_state_dict_file(unwrapped_state_dict(model), weights_file, metadata=metadata)
            self.logger.info(f'Weights file saved to {weights_file}')
            self._remove_orphan_files(out_dir)
        barrier()

    def _training_split_record(self):
        """The training split of this run (computed once: it hashes the annotation file), or None
        when the training dataset has no COCO annotation file (not a ``DeidPairedDataset``)."""
        if not hasattr(self, '_split_record'):
            loop = getattr(self, '_train_loop', None)
            dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
            ann_file = getattr(dataset, 'ann_file', None)
            self._split_record = (training_split_metadata(dataset)
                                  if isinstance(ann_file, str) and osp.isfile(ann_file) else None)
        return self._split_record

    def provenance(self) -> dict:
        """What this run's weights come from, computed once (it runs git and hashes files): the
        code's commit, the sha256 of the resolved config (``--cfg-options`` included), the training
        annotation file's sha256 (from the training-split record), the seed, package versions."""
        if not hasattr(self, '_provenance'):
            record = self._training_split_record() or {}
            randomness = self.cfg.get('randomness') or {}
            self._provenance = dict(
                commit=code_commit(), rdid_mm=__version__,
                config_sha256=config_text_sha256(self.cfg),
                ann_sha256=record.get('ann_sha256', ''), seed=self.seed,
                diff_rank_seed=bool(randomness.get('diff_rank_seed', False)),
                world_size=get_world_size(), packages=package_versions())
        return self._provenance

    def _rank_state(self):
        model = self.model.module if is_model_wrapper(self.model) else self.model
        # during validation the RNGs are forked; store the state training continues with
        training_rng = getattr(self.train_loop, 'training_rng_state', None)
        return dict(world_size=get_world_size(), rank=get_rank(),
                    rng=training_rng if training_rng is not None else capture_rng_state(),
                    image_buffers=capture_image_buffers(model))

    def _checkpoint_dict(self, save_optimizer, save_param_scheduler, meta, by_epoch):
        """The dict MMEngine's ``Runner.save_checkpoint`` builds, plus the run's batch layout."""
        meta = dict(meta or {})
        meta.setdefault('epoch', self.epoch + 1 if by_epoch else self.epoch)
        meta.setdefault('iter', self.iter if by_epoch else self.iter + 1)
        meta.update(
            cfg=self.cfg.pretty_text, seed=self.seed, experiment_name=self.experiment_name,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
            mmengine_version=mmengine.__version__, world_size=get_world_size(),
            global_batch_size=getattr(self.train_loop, 'global_batch_size', None),
            num_samples=getattr(self.train_loop, 'num_samples', None))
        if hasattr(self.train_dataloader.dataset, 'metainfo'):
            meta.update(dataset_meta=self.train_dataloader.dataset.metainfo)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = dict(meta=meta, state_dict=weights_to_cpu(unwrapped_state_dict(model)),
                          message_hub=_to_cpu(self.message_hub.state_dict()))
        if save_optimizer:
            checkpoint['optimizer'] = _to_cpu(self.optim_wrapper.state_dict())
        if save_param_scheduler and self.param_schedulers is not None:
            if isinstance(self.param_schedulers, dict):
                checkpoint['param_schedulers'] = {
                    name: [s.state_dict() for s in schedulers]
                    for name, schedulers in self.param_schedulers.items()}
            else:
                checkpoint['param_schedulers'] = [s.state_dict() for s in self.param_schedulers]
        return checkpoint

    @staticmethod
    def _remove_orphan_files(out_dir):
        """Delete the weights and rank-state files this Runner wrote for deleted checkpoints.

        CheckpointHook's ``max_keep_ckpts`` deletes old ``.pth`` files only. A weights file is
        deleted only if its metadata says RDIDRunner wrote it for a checkpoint of that name, so a
        user's ``.safetensors`` in the work_dir is never touched.
        """
        for weights_file in glob.glob(osp.join(out_dir, '*.safetensors')):
            checkpoint = weights_file[:-len('.safetensors')] + '.pth'
            metadata = weights_file_metadata(weights_file)
            if (metadata.get('written_by') == WRITTEN_BY
                    and metadata.get('checkpoint') == osp.basename(checkpoint)
                    and not osp.exists(checkpoint)):
                os.remove(weights_file)
        for state_file in glob.glob(osp.join(out_dir, '*.rank*.state')):
            match = _RANK_STATE.match(osp.basename(state_file))
            if match and not osp.exists(osp.join(out_dir, match['root'] + '.pth')):
                os.remove(state_file)


def _to_cpu(obj):
    from mmengine.utils import apply_to
    return apply_to(obj, lambda x: hasattr(x, 'cpu'), lambda x: x.cpu())
