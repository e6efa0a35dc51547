"""The Table 1 row cache keeps rows detected at different batch sizes apart."""
import json
import os.path as osp

import pytest

from rdid_mm.evaluation.detectors import build_detector
from rdid_mm.layout import DeidLayout
from rdid_mm.reports.table_rows import RowEvaluator, RowSpec

from tests.evaluation.detector_double import SMALL_DETECTOR


@pytest.fixture(scope='module')
def small_detector():
    return build_detector(SMALL_DETECTOR)


def _detect(deid_sample, cache_dir, batch_size, detector):
    evaluator = RowEvaluator(DeidLayout(deid_sample), SMALL_DETECTOR, cache_dir, device='cpu',
                             batch_size=batch_size)
    evaluator._detector = detector  # built once for the module: the same weights every time
    result = evaluator.evaluate(RowSpec('GT', 'gt'), num_samples=10)
    with open(osp.join(cache_dir, 'rows', 'gt-GT.json')) as f:
        return result, json.load(f)['detections']


@pytest.mark.slow
def test_a_row_detected_at_batch_1_is_not_served_at_batch_4(deid_sample, tmp_path,
                                                            small_detector):
    cache = str(tmp_path / 'cache')
    _, at_one = _detect(deid_sample, cache, 1, small_detector)
    four, cached = _detect(deid_sample, cache, 4, small_detector)
    _, fresh_four = _detect(deid_sample, str(tmp_path / 'fresh'), 4, small_detector)
    # torchvision pads a batch to its largest image: the detections do change with the batch
    assert at_one != fresh_four
    assert not four.from_cache and cached == fresh_four
    again, _ = _detect(deid_sample, cache, 4, small_detector)
    assert again.from_cache  # the same batch size still reads the cache
