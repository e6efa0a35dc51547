"""The Python API behind ``tools/``: train, test, and ``init_model`` for restoring (the loop is
:mod:`rdid_mm.restore`; Table 1 and the other reports are :mod:`rdid_mm.reports`)."""
from rdid_mm.datasets.split_annotations import SplitAnnotationsError
from rdid_mm.engine.hooks import NonFiniteLossError
from rdid_mm.engine.train_loop import ResumeMismatchError
from rdid_mm.models.restorers import NotARestorerError
from rdid_mm.restore.generator import init_model
from rdid_mm.utils.weights_file import CheckpointError

from .test import format_metrics_table, test
from .train import AmpUnavailableError, build_runner, load_config, train

# Errors a user's input can cause; tools print them as one line instead of a traceback.
USER_ERRORS = (AmpUnavailableError, CheckpointError, FileNotFoundError, NonFiniteLossError,
               NotARestorerError, ResumeMismatchError, SplitAnnotationsError)

__all__ = [
    'AmpUnavailableError', 'CheckpointError', 'NonFiniteLossError', 'NotARestorerError',
    'ResumeMismatchError', 'USER_ERRORS', 'build_runner',
    'format_metrics_table', 'init_model', 'load_config', 'test', 'train'
]
