<<<<<<< HEAD
"""Engine: the Runner with rdid_mm's checkpoint policy, and checkpoint file helpers."""
from .checkpoint import (CheckpointError, load_state_dict_file, save_state_dict_file,
                         weights_path_for)
from .hooks import NonFiniteLossError, NonFiniteLossHook
=======
"""Engine: the Runner with rdid_mm's checkpoint policy, gradient sync, the training loop."""
from .checkpoint import (CheckpointError, load_state_dict_file, load_training_file,
                         save_state_dict_file, weights_path_for)
>>>>>>> main
from .runner import RDIDRunner
from .train_loop import RDIDIterBasedTrainLoop, ScheduleError, batch_layout, iters_per_epoch

__all__ = [
<<<<<<< HEAD
    'CheckpointError', 'load_state_dict_file', 'save_state_dict_file', 'weights_path_for',
    'NonFiniteLossError', 'NonFiniteLossHook', 'RDIDRunner'
=======
    'CheckpointError', 'load_state_dict_file', 'load_training_file', 'save_state_dict_file',
    'weights_path_for', 'RDIDRunner', 'RDIDIterBasedTrainLoop', 'ScheduleError', 'batch_layout',
    'iters_per_epoch'
>>>>>>> main
]
