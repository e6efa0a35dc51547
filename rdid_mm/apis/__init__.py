"""The Python API behind ``tools/``: train, test, and restore images with a trained model."""
from .inference import init_model
from .test import format_metrics_table, test
from .train import build_runner, load_config, train

__all__ = ['build_runner', 'format_metrics_table', 'init_model', 'load_config', 'test', 'train']
