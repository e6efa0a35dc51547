"""The Python API behind ``tools/``: train, test, and restore images with a trained model."""
from .test import format_metrics_table, test
from .train import build_runner, load_config, train

__all__ = ['build_runner', 'format_metrics_table', 'load_config', 'test', 'train']
