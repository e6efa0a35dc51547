"""Stop training at the first non-finite loss, before a checkpoint of the broken weights is saved."""
import math

from mmengine.hooks import Hook

from rdid_mm.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message names the iteration and the loss terms."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when a logged loss of an iteration is not finite.

    It runs before ``CheckpointHook`` (priority ``ABOVE_NORMAL`` against its ``VERY_LOW``), so the
    iteration that diverged is never saved: the last checkpoint on disk is the last good one, and
    ``--resume`` restarts from it (with a lower learning rate, say).
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        bad = {}
        for name, value in (outputs or {}).items():
            if 'loss' not in name:
                continue
            number = float(value.detach().float().mean()) if hasattr(value, 'detach') else float(value)
            if not math.isfinite(number):
                bad[name] = number
        if bad:
            terms = ', '.join(f'{name}={value}' for name, value in sorted(bad.items()))
            raise NonFiniteLossError(
                f'training stopped at iteration {runner.iter + 1}: non-finite loss ({terms}); '
                f'no checkpoint of this iteration was saved, the last good one is in '
                f'{runner.work_dir}')
