"""Engine: the Runner with rdid_mm's checkpoint policy, gradient sync, the loops, hooks."""
from .checkpoint import (CheckpointError, load_state_dict_file, load_training_file,
                         save_state_dict_file, weights_path_for)
from .data_settings import resolve_data_settings
from .eval_loops import RDIDTestLoop, RDIDValLoop
from .hooks import NonFiniteLossError, NonFiniteLossHook
from .runner import RDIDRunner
from .train_loop import (RDIDIterBasedTrainLoop, ResumeMismatchError, ScheduleError, batch_layout,
                         iters_per_epoch)

__all__ = [
    'CheckpointError', 'load_state_dict_file', 'load_training_file', 'save_state_dict_file',
    'weights_path_for', 'NonFiniteLossError', 'NonFiniteLossHook', 'RDIDRunner',
    'RDIDIterBasedTrainLoop', 'ResumeMismatchError', 'ScheduleError', 'batch_layout',
    'iters_per_epoch', 'RDIDValLoop', 'RDIDTestLoop', 'resolve_data_settings'
]
