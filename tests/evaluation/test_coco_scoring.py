"""evaluate_coco_results on the real COCO sample against pycocotools run directly."""
import contextlib
import io
import json
import math

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rdid_mm.evaluation import evaluate_coco_results
from rdid_mm.evaluation.coco_scoring import BBOX_STAT_NAMES, KPT_STAT_NAMES, format_ap_table

BBOX_KEYS = [f'coco/bbox_{n}' for n in BBOX_STAT_NAMES]
KPT_KEYS = [f'coco/kpt_{n}' for n in KPT_STAT_NAMES]


@pytest.fixture
def gt_as_results(tmp_path, sample_ann_file):
    with open(sample_ann_file) as f:
        anns = json.load(f)['annotations']
    path = tmp_path / 'gt_results.json'
    path.write_text(json.dumps([dict(a, score=1.0) for a in anns]))
    return str(path)


def test_fixed_names_and_ground_truth_scores_perfect_boxes(sample_ann_file, gt_as_results,
                                                           pycocotools_gt_stats):
    stats = evaluate_coco_results(sample_ann_file, gt_as_results)
    assert list(stats) == BBOX_KEYS + KPT_KEYS
    assert stats['coco/bbox_AP'] == pytest.approx(1.0)
    assert stats['coco/bbox_AP50'] == pytest.approx(1.0)
    # two annotations have no keypoints and count against the keypoint score
    assert stats['coco/kpt_AP'] == pytest.approx(0.894, abs=5e-4)
    np.testing.assert_allclose([stats[k] for k in KPT_KEYS], pycocotools_gt_stats['keypoints'])
    assert all(0.0 <= v <= 1.0 for v in stats.values())


def test_shipped_detections_match_pycocotools_directly(sample_dir, sample_ann_file):
    results_file = f'{sample_dir}/annotations/test_coco_det_AP_H_56.json'
    stats = evaluate_coco_results(sample_ann_file, results_file)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(sample_ann_file)
        direct = COCOeval(coco, coco.loadRes(results_file), 'bbox')
        direct.evaluate()
        direct.accumulate()
        direct.summarize()
    assert list(stats) == BBOX_KEYS  # the file holds boxes only
    expected = [v if v >= 0 else math.nan for v in direct.stats]
    np.testing.assert_array_equal([stats[k] for k in BBOX_KEYS], expected)
    assert 0.5 < stats['coco/bbox_AP'] < 1.0


def test_image_missing_from_json_is_named(tmp_path, sample_ann_file):
    results = tmp_path / 'results.json'
    results.write_text(json.dumps([{'image_id': 123456789, 'category_id': 1,
                                    'bbox': [1, 2, 3, 4], 'score': 0.9}]))
    with pytest.raises(ValueError, match=r'results.json: 1 image id\(s\) are not in the '
                       r'annotation file: \[123456789\]'):
        evaluate_coco_results(sample_ann_file, str(results))


@pytest.mark.parametrize('content, message', [
    (None, 'results file not found'),
    ('{not json', 'not valid json'),
    ('{"image_id": 785}', 'holds a list of detections'),
    ('[{"image_id": 785, "category_id": 1, "bbox": [1, 2, 3, 4]}]', 'has no score'),
    ('[{"image_id": 785, "category_id": 1, "keypoints": [1, 2], "score": 1}]',
     '2 keypoint values, expected 51'),
])
def test_bad_results_files_give_clear_errors(tmp_path, sample_ann_file, content, message):
    path = tmp_path / 'results.json'
    if content is not None:
        path.write_text(content)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        evaluate_coco_results(sample_ann_file, str(path))


def test_missing_annotation_file_is_named(tmp_path, gt_as_results):
    with pytest.raises(FileNotFoundError, match='annotation file not found: .*nope.json'):
        evaluate_coco_results(str(tmp_path / 'nope.json'), gt_as_results)


def test_no_detections_scores_zero(tmp_path, sample_ann_file):
    path = tmp_path / 'empty.json'
    path.write_text('[]')
    stats = evaluate_coco_results(sample_ann_file, str(path))
    assert stats['coco/bbox_AP'] == 0.0 and stats['coco/bbox_AR100'] == 0.0


def test_ap_table_is_readable(sample_ann_file, gt_as_results):
    stats = evaluate_coco_results(sample_ann_file, gt_as_results)
    table = format_ap_table({k.split('/', 1)[1]: v for k, v in stats.items()}, title='GT')
    assert table.splitlines()[0] == 'GT'
    assert 'bbox      AP 100.0' in table and 'keypoints AP  89.4' in table
