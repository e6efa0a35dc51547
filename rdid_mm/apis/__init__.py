"""The Python API behind ``tools/``: train, test, and restore images with a trained model."""
from rdid_mm.engine.checkpoint import CheckpointError
from rdid_mm.engine.hooks import NonFiniteLossError
from .inference import init_model, restore_folder, restore_image
from .test import format_metrics_table, test
from .train import AmpUnavailableError, build_runner, load_config, train

# Errors a user's input can cause; tools print them as one line instead of a traceback.
USER_ERRORS = (AmpUnavailableError, CheckpointError, FileNotFoundError, NonFiniteLossError)

__all__ = [
    'AmpUnavailableError', 'CheckpointError', 'USER_ERRORS', 'build_runner',
    'format_metrics_table', 'init_model', 'load_config', 'restore_folder', 'restore_image',
    'test', 'train'
]
