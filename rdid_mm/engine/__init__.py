"""Engine: the Runner with rdid_mm's checkpoint policy, and checkpoint file helpers."""
from .checkpoint import (CheckpointError, load_state_dict_file, save_state_dict_file,
                         weights_path_for)
from .hooks import NonFiniteLossError, NonFiniteLossHook
from .runner import RDIDRunner

__all__ = [
    'CheckpointError', 'load_state_dict_file', 'save_state_dict_file', 'weights_path_for',
    'NonFiniteLossError', 'NonFiniteLossHook', 'RDIDRunner'
]
