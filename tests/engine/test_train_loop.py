"""The schedule in epochs (1, 2 and 8 ranks), the batch-size warning, cuDNN autotuning in training
only."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from rdid_mm import apis
from rdid_mm.engine import ScheduleError, batch_layout, iters_per_epoch
from rdid_mm.registry import DATASETS

from tests.conftest import REPO_ROOT

OURS = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam_8xb4-lr2e-4-100e_deid-coco.py')
TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')
KNOWN_LENGTH = 1000


@DATASETS.register_module()
class KnownLengthDataset:
    """A training set of KNOWN_LENGTH samples (only its length is used: nothing is trained)."""
    metainfo = dict(domains=('mosaic', 'gt'))

    def __len__(self):
        return KNOWN_LENGTH

    def __getitem__(self, index):
        raise AssertionError('the schedule must not load samples')


@pytest.mark.parametrize('world_size,per_gpu', [(1, 32), (2, 16), (8, 4)])
def test_batch_layout_derives_the_per_gpu_batch(world_size, per_gpu):
    assert batch_layout(32, None, world_size) == (per_gpu, 32)
    assert batch_layout(32, 3, world_size) == (3, 3 * world_size)  # set by the user


def test_batch_layout_errors_say_what_to_set():
    with pytest.raises(ScheduleError, match=r'global batch 32 .* does not divide over 3 GPUs'):
        batch_layout(32, None, 3)
    with pytest.raises(ScheduleError, match='train_cfg.global_batch_size'):
        batch_layout(None, None, 1)
    assert iters_per_epoch(1000, 32) == 32 and iters_per_epoch(64, 32) == 2


def _schedule_runner(tmp_path, **options):
    cfg = Config.fromfile(OURS)
    cfg.train_dataloader.dataset = dict(type='KnownLengthDataset')
    cfg.merge_from_dict({
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
        'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None,
        'custom_hooks': [], 'default_hooks.checkpoint.save_best': None, **options})
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = apis.build_runner(cfg)
    loop = runner.train_loop
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
    schedulers = runner.build_param_scheduler(runner.param_schedulers)
    return runner, loop, schedulers


def _log(runner):
    # the files of the logger this runner logs to (two runners built in the same second share
    # MMEngine's logger instance, and so its file, which may lie in the other's log_dir)
    import logging
    files = [h.baseFilename for h in runner.logger.handlers if isinstance(h, logging.FileHandler)]
    return ''.join(open(p).read() for p in files)


@pytest.mark.parametrize('world_size,per_gpu', [(1, 32), (2, 16), (8, 4)])
def test_schedule_follows_the_training_set_and_global_batch(world_size, per_gpu, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr('rdid_mm.engine.train_loop.get_world_size', lambda: world_size)
    runner, loop, schedulers = _schedule_runner(tmp_path)
    epoch = -(-KNOWN_LENGTH // 32)  # 32 iterations per epoch whatever the number of GPUs
    assert (loop.per_gpu_batch_size, loop.global_batch_size) == (per_gpu, 32)
    assert loop.iters_per_epoch == epoch == len(runner.train_dataloader) == 32
    assert runner.train_dataloader.batch_size == per_gpu
    assert loop.max_iters == 100 * epoch
    assert (loop.val_begin, loop.val_interval) == (epoch, 5 * epoch)
    decay = schedulers['generators'][0]
    assert (decay.begin, decay.end) == (50 * epoch, 100 * epoch)
    assert f'Global batch 32 = {per_gpu} per GPU x {world_size} GPU(s); 32 iterations per ' \
        'epoch; 100 epochs = 3200 iterations' in _log(runner)


def test_a_global_batch_other_than_the_base_warns_and_auto_scale_lr_scales(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr('rdid_mm.engine.train_loop.get_world_size', lambda: 2)
    runner, loop, _ = _schedule_runner(tmp_path / 'a', **{'train_dataloader.batch_size': 4})
    assert loop.global_batch_size == 8 and loop.iters_per_epoch == 125
    assert ('The global batch is 8, but the learning rate was set for a global batch of 32'
            in _log(runner))
    assert runner.optim_wrapper['generators'].optimizer.param_groups[0]['lr'] == 2e-4
    runner, _, _ = _schedule_runner(tmp_path / 'b', **{'train_dataloader.batch_size': 4,
                                                       'auto_scale_lr.enable': True})
    assert runner.optim_wrapper['generators'].optimizer.param_groups[0]['lr'] == 2e-4 * 8 / 32
    assert 'Scaling the learning rate by 8/32' in _log(runner)


def test_cudnn_benchmark_is_on_in_training_and_off_in_val_and_test(deid_sample, tmp_path):
    from tests.engine.hooks_for_tests import CudnnFlagHook
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({
        **{f'{loader}.dataset.data_root': deid_sample
           for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')},
        'val_dataloader.dataset.strengths': [8], 'test_dataloader.dataset.strengths': [8],
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 1, 'env_cfg.cudnn_benchmark': True,
        'custom_hooks': [dict(type='CudnnFlagHook')]})
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    CudnnFlagHook.flags.clear()
    runner = apis.build_runner(cfg)
    runner.train()
    runner.test()
    phases = {phase for phase, _ in CudnnFlagHook.flags}
    assert phases == {'train', 'val', 'test'}
    assert all(flag == (phase == 'train') for phase, flag in CudnnFlagHook.flags)
    assert torch.backends.cudnn.benchmark  # back on for whatever trains next
    torch.backends.cudnn.benchmark = False


SAVED = dict(global_batch_size=32, num_samples=1000, seed=2021, iter=64)


@pytest.mark.parametrize('change,expected', [
    (dict(global_batch_size=16), 'global batch: checkpoint 32, this run 16'),
    (dict(num_samples=999), 'training set length: checkpoint 1000, this run 999'),
    (dict(seed=7), 'seed: checkpoint 2021, this run 7'),
    (dict(seed=None),
     'seed: checkpoint 2021, this run None (randomness.seed; None draws a new one)'),
])
def test_resume_refuses_a_changed_stream_setting_in_one_line(change, expected):
    from rdid_mm.engine.train_loop import ResumeMismatchError, check_resume_matches
    current = {**dict(global_batch_size=32, num_samples=1000, seed=2021), **change}
    with pytest.raises(ResumeMismatchError) as err:
        check_resume_matches('work/iter_64.pth', SAVED, current)
    message = str(err.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f'work/iter_64.pth: cannot resume: {expected}')
    assert message.endswith('or pass --resume-allow-changes to continue anyway')


def test_resume_with_the_same_settings_or_an_older_checkpoint_passes():
    from rdid_mm.engine.train_loop import check_resume_matches
    current = dict(global_batch_size=32, num_samples=1000, seed=2021)
    assert check_resume_matches('a.pth', SAVED, current) is None
    # a checkpoint written before the training set length was recorded: not compared
    assert check_resume_matches('a.pth', dict(SAVED, num_samples=None),
                                dict(current, num_samples=5)) is None


def test_resume_allow_changes_logs_every_change_instead():
    from rdid_mm.engine.train_loop import check_resume_matches
    warning = check_resume_matches('a.pth', SAVED, dict(global_batch_size=8, num_samples=1000,
                                                        seed=1), allow=True)
    assert 'global batch: checkpoint 32, this run 8' in warning
    assert 'seed: checkpoint 2021, this run 1' in warning and '--resume-allow-changes' in warning


def test_with_seed_none_the_stream_takes_the_seed_checkpoints_record(tmp_path, monkeypatch):
    """``randomness.seed=None``: the sampler is seeded with the run's drawn seed (what the
    checkpoint records as ``seed``), so setting ``randomness.seed`` to it continues the stream."""
    monkeypatch.setattr('rdid_mm.engine.train_loop.get_world_size', lambda: 1)
    cfg = Config.fromfile(OURS)
    cfg.train_dataloader.dataset = dict(type='KnownLengthDataset')
    cfg.train_dataloader.sampler = dict(type='ResumableInfiniteSampler', shuffle=True)
    cfg.merge_from_dict({
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
        'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None,
        'custom_hooks': [], 'default_hooks.checkpoint.save_best': None,
        'randomness': dict(seed=None, diff_rank_seed=True)})
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = apis.build_runner(cfg)
    sampler = runner.train_loop.dataloader.sampler
    assert runner.seed is not None and sampler.seed == runner.seed  # rank 0: no rank offset


def test_the_runner_compares_its_own_batch_training_set_and_seed(tmp_path, monkeypatch):
    """RDIDRunner checks a resumed checkpoint's meta against the loop it built (1000 samples,
    global batch 32) and the configured seed (the default runtime's 2021)."""
    from rdid_mm.engine.train_loop import ResumeMismatchError
    monkeypatch.setattr('rdid_mm.engine.train_loop.get_world_size', lambda: 1)
    runner, _, _ = _schedule_runner(tmp_path)
    same = dict(global_batch_size=32, num_samples=KNOWN_LENGTH, seed=2021)
    runner._check_resume_matches('iter_9.pth', same)
    for key, value, named in (('global_batch_size', 64, 'global batch: checkpoint 64, this run 32'),
                              ('num_samples', 999, 'training set length: checkpoint 999, this '
                               'run 1000'),
                              ('seed', 5, 'seed: checkpoint 5, this run 2021')):
        with pytest.raises(ResumeMismatchError, match=f'^iter_9.pth: cannot resume: {named} '):
            runner._check_resume_matches('iter_9.pth', dict(same, **{key: value}))
    runner.cfg.resume_allow_changes = True
    runner._check_resume_matches('iter_9.pth', dict(same, seed=5))
    assert 'resuming despite seed: checkpoint 5, this run 2021' in _log(runner)
