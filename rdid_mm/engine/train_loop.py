"""The training loop: a schedule in epochs of the real training set, and exact resume."""
import copy
import logging
import math
from typing import Optional

from mmengine.dist import get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.runner.loops import IterBasedTrainLoop, _InfiniteDataloaderIterator

from rdid_mm.registry import DATASETS, LOOPS

from .cudnn import cudnn_benchmark_off
from .data_settings import fill_datasets
from .distributed import needs_gradient_sync
from .resume_state import forked_rng, restore_image_buffers, restore_rng_state


class ScheduleError(ValueError):
    """A batch layout that cannot be run; the message says what to set."""


class ResumeMismatchError(ValueError):
    """``--resume`` with a batch layout, training set or seed other than the checkpoint's."""


#: what places a sample in the training stream, as a checkpoint's ``meta`` records it
STREAM_SETTINGS = (
    ('global_batch_size', 'global batch', 'train_cfg.global_batch_size or '
     'train_dataloader.batch_size x GPUs'),
    ('num_samples', 'training set length', 'the training data and its filters'),
    ('seed', 'seed', 'randomness.seed; None draws a new one'),
)
ALLOW_RESUME_CHANGES = 'resume_allow_changes'  # the config key of tools/train.py's option


def resume_changes(saved: dict, current: dict) -> list:
    """The stream settings (global batch, training set length, seed) that differ between a
    checkpoint's ``meta`` and this run, as ``'global batch: checkpoint 4, this run 8'``.

    A value the checkpoint does not record (written before it was) is not compared; a seed of None
    in this run differs from any recorded seed (it draws a new one).
    """
    changes = []
    for key, name, where in STREAM_SETTINGS:
        if saved.get(key) is None or key not in current:
            continue
        if saved[key] != current[key]:
            changes.append(f'{name}: checkpoint {saved[key]}, this run {current[key]} ({where})')
    return changes


def check_resume_matches(path: str, saved: dict, current: dict, allow: bool = False):
    """Refuse to resume ``path`` when :func:`resume_changes` finds any: continuing a sample stream
    under another batch layout, training set or seed repeats or skips samples. With ``allow``
    (``--resume-allow-changes``) log a warning naming them instead, and return it."""
    changes = resume_changes(saved, current)
    if not changes:
        return None
    listed = '; '.join(changes)
    if not allow:
        raise ResumeMismatchError(
            f'{path}: cannot resume: {listed}. Continuing would repeat or skip training samples; '
            'set the checkpoint\'s values, or pass --resume-allow-changes to continue anyway')
    warning = (f'{path}: resuming despite {listed} (--resume-allow-changes): the sample stream '
               'does not continue the checkpoint\'s, samples may repeat or be skipped.')
    print_log(warning, logger='current', level=logging.WARNING)
    return warning


def batch_layout(global_batch_size: Optional[int], per_gpu_batch_size: Optional[int],
                 world_size: int):
    """(per-GPU batch, global batch): the per-GPU batch if set, else global / world size."""
    if per_gpu_batch_size is not None:
        if per_gpu_batch_size < 1:
            raise ScheduleError(f'train_dataloader.batch_size must be >= 1, got '
                                f'{per_gpu_batch_size}')
        return int(per_gpu_batch_size), int(per_gpu_batch_size) * world_size
    if global_batch_size is None:
        raise ScheduleError('set train_cfg.global_batch_size (the batch over all GPUs) or '
                            'train_dataloader.batch_size (per GPU)')
    if global_batch_size < world_size or global_batch_size % world_size:
        raise ScheduleError(
            f'the global batch {global_batch_size} (train_cfg.global_batch_size) does not divide '
            f'over {world_size} GPUs; use a multiple of {world_size}, or set the per-GPU batch '
            'with train_dataloader.batch_size')
    return global_batch_size // world_size, int(global_batch_size)


def stream_seed(runner) -> int:
    """The seed of the training sample stream: ``randomness.seed``, or with None the random seed
    MMEngine drew for this run (the same on every rank), which checkpoints record as ``seed``."""
    randomness = runner._randomness_cfg
    if randomness.get('seed') is not None:
        return int(randomness['seed'])
    rank_offset = get_rank() if randomness.get('diff_rank_seed', False) else 0
    return int(runner.seed) - rank_offset


def iters_per_epoch(num_samples: int, global_batch_size: int) -> int:
    """Iterations for one pass over ``num_samples`` at ``global_batch_size`` (the last one
    partial)."""
    if num_samples < 1:
        raise ScheduleError('the training set is empty')
    return math.ceil(num_samples / global_batch_size)


@LOOPS.register_module()
class RDIDIterBasedTrainLoop(IterBasedTrainLoop):
    """MMEngine's iteration loop, with its schedule in epochs and a resume that continues exactly.

    Schedule: the per-GPU batch is ``global_batch_size / world size`` unless
    ``train_dataloader.batch_size`` is set; one epoch is one pass over the samples the built
    training dataset yields (after its filters and the held-out validation images), i.e.
    ``ceil(len(dataset) / global batch)`` iterations. With ``max_epochs``, ``max_iters``,
    ``val_begin`` and ``val_interval`` count epochs and are converted here; with ``max_iters`` (a
    smoke run or a test) everything counts iterations. ``len(train_dataloader)`` is the number of
    iterations per epoch, so epoch-based parameter schedulers with ``convert_to_iter_based=True``
    follow.

    Data: paired datasets that do not set ``data_root`` / ``strengths`` take them from the top
    level of ``runner.cfg`` (:mod:`.data_settings`), so a plain ``Runner.from_cfg`` reads a child
    config's folder.

    Resume: with a :class:`~rdid_mm.datasets.ResumableInfiniteSampler` the training dataset is
    wrapped in :class:`~rdid_mm.datasets.PerSampleSeedDataset`; a resumed run starts the sampler
    at the first unseen sample (nothing is decoded to get there), then restores this rank's RNG
    states and GAN image buffers. Validation runs under a forked RNG and with cuDNN autotuning off.

    Args:
        runner, dataloader: as in ``IterBasedTrainLoop``.
        max_epochs: training length in epochs.
        max_iters: training length in iterations (overrides ``max_epochs``).
        global_batch_size: the batch summed over all GPUs.
        val_begin, val_interval: in epochs with ``max_epochs``, in iterations with ``max_iters``.
        dynamic_intervals: as in ``IterBasedTrainLoop`` (iterations).
    """

    def __init__(self, runner, dataloader, max_epochs: Optional[int] = None,
                 max_iters: Optional[int] = None, global_batch_size: Optional[int] = None,
                 val_begin: int = 1, val_interval: int = 1, dynamic_intervals=None):
        if max_epochs is None and max_iters is None:
            raise ScheduleError('set train_cfg.max_epochs (or train_cfg.max_iters)')
        world_size = get_world_size()
        if isinstance(dataloader, dict):
            dataloader, num_samples = self._prepare_dataloader(
                dataloader, global_batch_size, world_size, runner)
        else:
            num_samples = len(dataloader.dataset)
            self.per_gpu_batch_size = dataloader.batch_size
            self.global_batch_size = dataloader.batch_size * world_size
        self.num_samples = num_samples
        self.iters_per_epoch = iters_per_epoch(num_samples, self.global_batch_size)
        by_epoch = max_iters is None
        if by_epoch:
            max_iters = int(max_epochs) * self.iters_per_epoch
            val_begin = int(val_begin) * self.iters_per_epoch
            val_interval = int(val_interval) * self.iters_per_epoch
        self.training_rng_state = None
        super().__init__(runner, dataloader, max_iters, val_begin, val_interval,
                         dynamic_intervals)
        length = (f'{max_epochs} epochs = {max_iters} iterations' if by_epoch else
                  f'{max_iters} iterations (train_cfg.max_iters; '
                  f'{max_iters / self.iters_per_epoch:.3g} epochs)')
        print_log(
            f'Training set: {num_samples} samples (one per image and strength). Global batch '
            f'{self.global_batch_size} = {self.per_gpu_batch_size} per GPU x {world_size} '
            f'GPU(s); {self.iters_per_epoch} iterations per epoch; {length}; validation every '
            f'{val_interval} iterations from iteration {val_begin}.', logger='current')

    def _prepare_dataloader(self, cfg, global_batch_size, world_size, runner):
        """Build the dataset (its length sets the schedule), choose the batch, seed the samples."""
        cfg = copy.deepcopy(cfg)
        fill_datasets(cfg, runner.cfg, 'train_dataloader')
        per_gpu, global_batch = batch_layout(global_batch_size, cfg.get('batch_size'),
                                             world_size)
        if cfg.get('batch_size') is not None and global_batch_size not in (None, global_batch):
            print_log(f'train_dataloader.batch_size={per_gpu} is set: the global batch is '
                      f'{global_batch}, not train_cfg.global_batch_size={global_batch_size}.',
                      logger='current', level=logging.WARNING)
        self.per_gpu_batch_size, self.global_batch_size = per_gpu, global_batch
        cfg['batch_size'] = per_gpu
        dataset = cfg['dataset']
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
        num_samples = len(dataset)
        sampler = cfg.get('sampler')
        if isinstance(sampler, dict) and sampler.get('type') in (
                'ResumableInfiniteSampler', 'rdid_mm.ResumableInfiniteSampler'):
            dataset = DATASETS.build(dict(type='PerSampleSeedDataset', dataset=dataset))
            sampler = dict(sampler)
            sampler.setdefault('samples_per_epoch',
                               iters_per_epoch(num_samples, global_batch) * per_gpu)
            sampler.setdefault('seed', stream_seed(runner))
            cfg['sampler'] = sampler
        cfg['dataset'] = dataset
        return cfg, num_samples

    def _sampler(self):
        sampler = getattr(self.dataloader, 'sampler', None)
        if not hasattr(sampler, 'set_start'):
            sampler = getattr(getattr(self.dataloader, 'batch_sampler', None), 'sampler', None)
        return sampler if hasattr(sampler, 'set_start') else None

    def _position_dataloader(self):
        """Continue the sample stream after the ``self._iter`` batches already trained on."""
        sampler = self._sampler()
        if sampler is None:
            print_log(f'The sampler cannot start mid-stream: replaying {self._iter} batches.',
                      logger='current', level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            return
        sampler.set_start(self._iter * self.per_gpu_batch_size)
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
        print_log(f'The sampler starts at sample {self._iter * self.global_batch_size} of the '
                  f'stream (iteration {self._iter}); no earlier batch is loaded.',
                  logger='current')

    def _restore_rank_state(self):
        pop = getattr(self.runner, 'pop_resume_rank_state', None)
        state = pop() if pop is not None else None
        if state is None:
            return
        restore_rng_state(state['rng'])
        model = self.runner.model
        model = getattr(model, 'module', model)
        device = next(model.parameters()).device
        restore_image_buffers(model, state['image_buffers'], device)
        print_log('Restored the RNG states and GAN image buffers of this rank.', logger='current')

    def _refuse_unsynchronised_ranks(self) -> None:
        """RDIDRunner makes each optimiser average gradients over ranks when it builds them
        (before MMEngine's parameter schedulers wrap their ``step``); a plain Runner
        (``Runner.from_cfg``) does not, and every rank would train a model of its own."""
        wrappers = getattr(self.runner.optim_wrapper, 'values', lambda: [])()
        if needs_gradient_sync(self.runner.model) and not all(
                getattr(w, '_rdid_gradient_sync', False) for w in wrappers):
            raise RuntimeError(
                f'{type(self.runner).__name__}: distributed training of this model needs '
                "RDIDRunner (tools/train.py, tools/dist_train.sh, or runner_type="
                "'rdid_mm.engine.RDIDRunner' with mmdet's tools); without it each rank would "
                'train a model of its own')

    def run(self):
        """MMEngine's ``IterBasedTrainLoop.run`` with positioning, state restore, forked
        validation."""
        self._refuse_unsynchronised_ranks()
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._position_dataloader()
        self._restore_rank_state()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0 or self._iter == self._max_iters)):
                self._validate()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _validate(self):
        with forked_rng() as training_rng, cudnn_benchmark_off():
            self.training_rng_state = training_rng
            try:
                self.runner.val_loop.run()
            finally:
                self.training_rng_state = None
