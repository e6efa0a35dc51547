"""tools/analysis_tools/benchmark_memory.py reads each tool's own peak RSS, not the benchmark's."""
import resource
import sys

import numpy as np

from tests.helpers import load_tool


def test_peak_rss_is_the_tools_own_even_from_a_large_parent(tmp_path):
    ballast = np.ones(400 << 20, np.uint8)  # this process: at least 400 MiB resident
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 > 400
    tool = load_tool('analysis_tools/benchmark_memory')
    small, _ = tool.peak_rss_mib([sys.executable, '-S', '-c', 'pass'], str(tmp_path / 'small.log'))
    big, _ = tool.peak_rss_mib(
        [sys.executable, '-c', 'import numpy; a = numpy.ones(200 << 20, numpy.uint8)'],
        str(tmp_path / 'big.log'))
    assert small < 50, small  # a bare interpreter, not the forking parent's RSS
    assert 200 < big < 200 + 150, big
    del ballast
