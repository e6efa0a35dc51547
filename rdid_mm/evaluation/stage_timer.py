"""Wall-clock time per named stage (decode, preprocess, forward, scoring), GPU-synchronised."""
import time
from collections import OrderedDict
from contextlib import contextmanager

import torch


class StageTimer:
    """Adds the time spent inside ``with timer.stage(name):`` blocks to ``timer.seconds[name]``."""

    def __init__(self):
        self.seconds = OrderedDict()

    @staticmethod
    def _sync():
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    @contextmanager
    def stage(self, name: str):
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def reset(self):
        self.seconds.clear()
