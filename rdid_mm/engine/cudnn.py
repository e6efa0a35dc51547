"""cuDNN autotuning for training only.

``env_cfg.cudnn_benchmark=True`` makes cuDNN time its algorithms for each new input shape and keep
the fastest: a gain for training's fixed crops, a loss for validation and test, whose whole images
differ in size (every new shape is timed again).
"""
from contextlib import contextmanager

import torch


@contextmanager
def cudnn_benchmark_off():
    """cuDNN autotuning off inside the block, restored after it."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous
