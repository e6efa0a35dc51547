"""Engine: the Runner with rdid_mm's checkpoint policy, checkpoint and weights helpers, hooks."""
from . import hooks  # noqa: F401  (registers the hooks)
from .checkpoint import (CheckpointError, load_state_dict_file, save_state_dict_file,
                         weights_path_for)
from .runner import RDIDRunner

__all__ = [
    'CheckpointError', 'load_state_dict_file', 'save_state_dict_file', 'weights_path_for',
    'RDIDRunner'
]
