"""tools/benchmark_memory.py reads each tool's own peak RSS, not the benchmark's."""
import importlib.util
import os.path as osp
import resource
import sys

import numpy as np

from tests.conftest import REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_memory', osp.join(REPO_ROOT, 'tools', 'benchmark_memory.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peak_rss_is_the_tools_own_even_from_a_large_parent(tmp_path):
    ballast = np.ones(400 << 20, np.uint8)  # this process: at least 400 MiB resident
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 > 400
    tool = _tool()
    small, _ = tool.peak_rss_mib([sys.executable, '-S', '-c', 'pass'], str(tmp_path / 'small.log'))
    big, _ = tool.peak_rss_mib(
        [sys.executable, '-c', 'import numpy; a = numpy.ones(200 << 20, numpy.uint8)'],
        str(tmp_path / 'big.log'))
    assert small < 50, small  # a bare interpreter, not the forking parent's RSS
    assert 200 < big < 200 + 150, big
    del ballast
