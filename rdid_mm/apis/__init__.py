"""The Python API behind ``tools/``: train, test, restore, and the Table 1 / sweep / grid
orchestration (which restores images by running models, so it lives here, above evaluation)."""
from rdid_mm.datasets.split_annotations import SplitAnnotationsError
from rdid_mm.engine.checkpoint import CheckpointError
from rdid_mm.engine.hooks import NonFiniteLossError
from rdid_mm.engine.train_loop import ResumeMismatchError
from rdid_mm.models.restorers import NotARestorerError
from .inference import init_model
from .qualitative_grid import make_qualitative_grid
from .table import make_strength_sweep, make_table1
from .test import format_metrics_table, test
from .train import AmpUnavailableError, build_runner, load_config, train

# Errors a user's input can cause; tools print them as one line instead of a traceback.
USER_ERRORS = (AmpUnavailableError, CheckpointError, FileNotFoundError, NonFiniteLossError,
               NotARestorerError, ResumeMismatchError, SplitAnnotationsError)

__all__ = [
    'AmpUnavailableError', 'CheckpointError', 'NonFiniteLossError', 'NotARestorerError',
    'ResumeMismatchError', 'USER_ERRORS', 'build_runner',
    'format_metrics_table', 'init_model', 'load_config', 'make_qualitative_grid',
    'make_strength_sweep', 'make_table1', 'test', 'train'
]
