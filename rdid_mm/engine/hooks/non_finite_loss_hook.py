"""Stop training at the first non-finite loss, on every rank, before a checkpoint of the broken
weights is saved."""
import math

import torch
from mmengine.dist import all_gather_object, all_reduce, get_rank, get_world_size
from mmengine.hooks import Hook

from rdid_mm.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message names the iteration, the ranks and the terms."""


def non_finite_losses(outputs) -> dict:
    """The logged loss terms of ``outputs`` whose value is NaN or infinite."""
    bad = {}
    for name, value in (outputs or {}).items():
        if 'loss' not in name:
            continue
        number = float(value.detach().float().mean()) if hasattr(value, 'detach') else float(value)
        if not math.isfinite(number):
            bad[name] = number
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` on every rank when a loss of any rank is not finite.

    It runs before ``CheckpointHook`` (priority ``ABOVE_NORMAL`` against its ``VERY_LOW``), so the
    iteration that diverged is never saved: the last checkpoint on disk is the last good one, and
    ``--resume`` restarts from it (with a lower learning rate, say). With several ranks each
    iteration all-reduces one flag per rank, so a rank whose own losses are finite stops too
    instead of waiting in the next gradient all-reduce for a rank that is gone (until NCCL's
    timeout); all ranks raise the same one-line message.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        bad = non_finite_losses(outputs)
        world_size = get_world_size()
        bad_by_rank = {get_rank(): bad} if bad else {}
        if world_size > 1:
            flags = torch.zeros(world_size)
            flags[get_rank()] = float(bool(bad))
            all_reduce(flags, op='max')
            if flags.any():
                # only now, rarely: every rank learns the others' terms for one shared message
                bad_by_rank = {rank: terms for rank, terms in enumerate(all_gather_object(bad))
                               if terms}
        if bad_by_rank:
            where = '; '.join(
                (f'rank {rank}: ' if world_size > 1 else '')
                + ', '.join(f'{name}={value}' for name, value in sorted(terms.items()))
                for rank, terms in sorted(bad_by_rank.items()))
            raise NonFiniteLossError(
                f'training stopped at iteration {runner.iter + 1}: non-finite loss ({where}); '
                f'no checkpoint of this iteration was saved, the last good one is in '
                f'{runner.work_dir}')
