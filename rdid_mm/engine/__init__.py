"""Engine: the Runner with rdid_mm's checkpoint policy, gradient sync, the loops, hooks,
and ``register_all_modules``."""
from .checkpoint import load_training_file
from .data_settings import resolve_data_settings
from .eval_loops import RDIDTestLoop, RDIDValLoop
from .hooks import NonFiniteLossError, NonFiniteLossHook
from .runner import RDIDRunner
from .setup_env import register_all_modules
from .train_loop import (
                         RDIDIterBasedTrainLoop,
                         ResumeMismatchError,
                         ScheduleError,
                         batch_layout,
                         iters_per_epoch,
)

__all__ = [
    'load_training_file', 'NonFiniteLossError', 'NonFiniteLossHook', 'RDIDRunner',
    'RDIDIterBasedTrainLoop', 'ResumeMismatchError', 'ScheduleError', 'batch_layout',
    'iters_per_epoch', 'RDIDValLoop', 'RDIDTestLoop', 'register_all_modules',
    'resolve_data_settings'
]
