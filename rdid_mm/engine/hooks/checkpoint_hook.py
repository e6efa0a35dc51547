"""MMEngine's CheckpointHook, with the old checkpoint deleted only after the new one is complete.

MMEngine's ``_save_checkpoint_with_step`` deletes the oldest checkpoint (``max_keep_ckpts``)
before it saves the new one and rewrites ``last_checkpoint`` in place: with ``max_keep_ckpts=1``,
a kill during a save leaves no checkpoint, or a ``last_checkpoint`` naming a deleted file. Its
``_save_best_checkpoint`` likewise deletes the previous ``best_*.pth`` before saving the new one.
"""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from rdid_mm.registry import HOOKS
from rdid_mm.utils.io import atomic_write


class _DeferredRemoval:
    """A view of a file backend whose ``remove`` / ``rmtree`` only note the path."""

    def __init__(self, backend, noted: list):
        self._backend, self._noted = backend, noted

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path):
        self._noted.append(path)

    def rmtree(self, path):
        self._noted.append(path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves, then points ``last_checkpoint`` at it, then deletes.

    At every instant of a save, ``last_checkpoint`` names a complete checkpoint on disk, so a
    SIGKILL or power cut at any point leaves ``--resume`` a checkpoint to continue from.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        stale = None
        # the kept ids are updated before the save, as MMEngine does: the checkpoint stores them
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if stale is not None and stale != step:
            self._remove_checkpoint(runner, self.filename_tmpl.format(stale))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """MMEngine's, with the previous best deleted only once the new best is on disk."""
        backend, replaced = self.file_backend, []
        self.file_backend = _DeferredRemoval(backend, replaced)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        current = {getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in replaced:
            if path not in current:
                self._remove_path(runner, path)

    def _remove_checkpoint(self, runner, filename):
        self._remove_path(runner, self.file_backend.join_path(self.out_dir, filename))

    def _remove_path(self, runner, path):
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
            self.file_backend.rmtree(path)
        # RDIDRunner's weights and rank-state files of checkpoints that are gone
        remove_orphans = getattr(runner, '_remove_orphan_files', None)
        if remove_orphans is not None:
            remove_orphans(self.out_dir)
