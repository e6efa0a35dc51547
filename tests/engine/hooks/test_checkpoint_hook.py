"""AtomicCheckpointHook: a real SIGKILL inside a save keeps the previous checkpoint
(max_keep_ckpts=1), ``--resume`` continues from it, and a finished save leaves only the newest
checkpoint."""
import glob
import os.path as osp
import signal

import pytest

from tests.engine.test_resume import train
from tests.tools.test_train_test_tools import TINY_CONFIG, config_with_test_hooks, data_options

KEEP_ONE = 'default_hooks.checkpoint.max_keep_ckpts=1'


def checkpoint_files(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, 'iter_*')))


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def test_default_runtime_uses_the_atomic_hook():
    from mmengine.config import Config
    cfg = Config.fromfile(TINY_CONFIG)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'


@pytest.mark.slow
def test_sigkill_inside_a_save_keeps_the_previous_checkpoint_and_resume_works(deid_sample,
                                                                              tmp_path):
    work_dir = str(tmp_path / 'w')
    options = data_options(deid_sample, 4)
    # killed inside the save of iter_4, after its rank-state file, before its .pth
    kill_config = config_with_test_hooks(tmp_path, TINY_CONFIG,
                                         [dict(type='KillInSaveHook', at_iter=4)])
    train([kill_config, '--work-dir', work_dir, '--cfg-options', *options[:-1], KEEP_ONE],
          expect_rc=-signal.SIGKILL)
    assert {'iter_2.pth', 'iter_2.safetensors', 'iter_2.rank0.state'} <= set(
        checkpoint_files(work_dir))
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))
    assert last_checkpoint(work_dir) == osp.join(work_dir, 'iter_2.pth')
    assert not glob.glob(osp.join(work_dir, '.last_checkpoint*'))  # no staging file left

    log = train([TINY_CONFIG, '--work-dir', work_dir, '--resume', '--cfg-options', *options,
                 KEEP_ONE])
    assert 'resumed epoch: 0, iter: 2' in log
    # the save completed: only the newest checkpoint, its weights and its rank state remain
    assert checkpoint_files(work_dir) == ['iter_4.pth', 'iter_4.rank0.state',
                                          'iter_4.safetensors']
    assert last_checkpoint(work_dir) == osp.join(work_dir, 'iter_4.pth')


@pytest.mark.slow
def test_a_normal_run_keeps_only_the_newest_checkpoint(deid_sample, tmp_path):
    work_dir = str(tmp_path / 'w')
    train([TINY_CONFIG, '--work-dir', work_dir, '--cfg-options', *data_options(deid_sample, 4),
           KEEP_ONE])
    assert checkpoint_files(work_dir) == ['iter_4.pth', 'iter_4.rank0.state',
                                          'iter_4.safetensors']
    assert last_checkpoint(work_dir) == osp.join(work_dir, 'iter_4.pth')


@pytest.mark.slow
def test_a_new_best_checkpoint_is_saved_before_the_previous_best_is_deleted(tmp_path):
    """MMEngine deletes the previous best_*.pth first: a kill inside the save leaves no best."""
    import torch
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from torch.utils.data import DataLoader

    from rdid_mm.engine import RDIDRunner, register_all_modules

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            if mode == 'loss':
                return {'loss': (self.weight - 1).pow(2).sum()}
            return [inputs]

    class RisingScore(BaseMetric):  # every validation is a new best
        def process(self, data_batch, data_samples):
            self.results.append(0)

        def compute_metrics(self, results):
            self.calls = getattr(self, 'calls', 0) + 1
            return {'score': float(self.calls)}

    register_all_modules()
    loader = DataLoader([torch.zeros(1)] * 2, batch_size=1, collate_fn=lambda batch: dict(
        inputs=torch.stack(batch)))
    runner = RDIDRunner(
        model=Toy(), work_dir=str(tmp_path), train_dataloader=loader, val_dataloader=loader,
        train_cfg=dict(by_epoch=False, max_iters=6, val_interval=2), val_cfg=dict(),
        val_evaluator=[RisingScore()], optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=100,
                                           by_epoch=False, save_best='score', rule='greater',
                                           save_last=False)),
        default_scope='rdid_mm')
    previous_best_on_disk = []
    save = runner.save_checkpoint

    def watched_save(out_dir, filename, *args, **kwargs):
        if filename.startswith('best_'):
            previous = glob.glob(osp.join(out_dir, 'best_score_iter_*.pth'))
            previous_best_on_disk.append((filename, [osp.basename(p) for p in previous]))
        return save(out_dir, filename, *args, **kwargs)

    runner.save_checkpoint = watched_save
    runner.train()
    assert previous_best_on_disk == [('best_score_iter_2.pth', []),
                                     ('best_score_iter_4.pth', ['best_score_iter_2.pth']),
                                     ('best_score_iter_6.pth', ['best_score_iter_4.pth'])]
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(str(tmp_path), 'best_*'))) == [
        'best_score_iter_6.pth', 'best_score_iter_6.rank0.state', 'best_score_iter_6.safetensors']
