"""Table 1 scored by an mmdet detector or an mmpose pose model (``--detector-config``), through
``tools/eval_table.py`` on the de-identified sample, random weights (smoke numbers)."""
import csv
import json
import math
import os.path as osp
import sys

import pytest

from rdid_mm.evaluation import evaluate_coco_results

from tests.conftest import REPO_ROOT
from tests.helpers import run_tool

RTMDET_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmdet_tiny_person_smoke.py')
RTMPOSE_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmpose-t_smoke.py')


def _table(deid_sample, out_dir, config):
    """Run ``eval_table.py`` with ``config`` (random weights) at strength 8; the table files."""
    command = [
        sys.executable, osp.join(REPO_ROOT, 'tools', 'eval_table.py'), deid_sample,
        '--out-dir', str(out_dir), '--strengths', '8', '--detector-config', config,
        '--detector-weights', 'none', '--device', 'cpu', '--bootstrap', '50'
    ]
    run = run_tool(command, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with open(osp.join(out_dir, 'table1.csv')) as f:
        rows = {row['row']: row for row in csv.DictReader(f)}
    with open(osp.join(out_dir, 'table1.md')) as f:
        markdown = f.read()
    return rows, markdown


def _md_cells(markdown, label):
    line = next(line for line in markdown.splitlines() if line.startswith(f'| {label} |'))
    return [cell.strip() for cell in line.strip('|').split('|')]


def _direct(deid_sample, out_dir, slug, tmp_path):
    """COCOeval of the row's cached detections, independently of the table."""
    with open(osp.join(out_dir, 'cache', 'rows', f'{slug}.json')) as f:
        detections = json.load(f)['detections']
    results = tmp_path / f'{slug}.json'
    results.write_text(json.dumps(detections))
    return detections, evaluate_coco_results(
        osp.join(deid_sample, 'annotations', 'person_keypoints.json'), str(results))


@pytest.mark.slow
def test_mmdet_config_scores_boxes_and_leaves_keypoints_na(deid_sample, tmp_path):
    out_dir = tmp_path / 'table_rtmdet'
    rows, markdown = _table(deid_sample, out_dir, RTMDET_SMOKE)
    assert set(rows) == {'GT', 'Mosaic s8'}
    for label, slug in (('GT', 'gt-GT'), ('Mosaic s8', 'mosaic-Mosaic-s8')):
        detections, direct = _direct(deid_sample, out_dir, slug, tmp_path)
        assert detections and all('keypoints' not in d for d in detections)
        for name in ('bbox_AP', 'bbox_AP50', 'bbox_AP75'):
            assert float(rows[label][name]) == pytest.approx(direct[f'coco/{name}'], abs=1e-12)
        # no keypoints from a box detector: n/a, not 0.0
        assert all(math.isnan(float(rows[label][c])) for c in ('kpt_AP', 'kpt_AP50', 'kpt_AP75'))
        cells = _md_cells(markdown, label)
        assert cells[1] != 'n/a' and cells[4:7] == ['n/a', 'n/a', 'n/a']
    assert _md_cells(markdown, 'Mosaic s8')[8] == '—'
    assert (f'Detector: mmdet config {RTMDET_SMOKE}, random weights (smoke test).'
            in markdown)
    assert 'Keypoint R-CNN' not in markdown


@pytest.mark.slow
def test_mmpose_top_down_config_scores_keypoints_on_gt_boxes(deid_sample, tmp_path):
    out_dir = tmp_path / 'table_rtmpose'
    rows, markdown = _table(deid_sample, out_dir, RTMPOSE_SMOKE)
    for label, slug in (('GT', 'gt-GT'), ('Mosaic s8', 'mosaic-Mosaic-s8')):
        detections, direct = _direct(deid_sample, out_dir, slug, tmp_path)
        assert detections and all(len(d['keypoints']) == 51 for d in detections)
        for name in ('bbox_AP', 'kpt_AP', 'kpt_AP50', 'kpt_AP75'):
            assert float(rows[label][name]) == pytest.approx(direct[f'coco/{name}'], abs=1e-12)
        assert not math.isnan(float(rows[label]['kpt_AP']))
        assert _md_cells(markdown, label)[4] != 'n/a'
    # top-down on the GT boxes: the same boxes on GT and Mosaic images, one per annotation
    with open(osp.join(deid_sample, 'annotations', 'person_keypoints.json')) as f:
        persons = [a for a in json.load(f)['annotations'] if a['category_id'] == 1]
    gt_dets, _ = _direct(deid_sample, out_dir, 'gt-GT', tmp_path)
    mosaic_dets, _ = _direct(deid_sample, out_dir, 'mosaic-Mosaic-s8', tmp_path)
    assert [d['bbox'] for d in gt_dets] == [d['bbox'] for d in mosaic_dets]
    assert len(gt_dets) == len(persons)
    assert (f'Detector: mmpose config {RTMPOSE_SMOKE}, random weights (smoke test); top-down on '
            'the ground-truth person boxes' in markdown)


@pytest.mark.slow
def test_detector_config_with_torchvision_weights_is_refused(deid_sample, tmp_path):
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'eval_table.py'), deid_sample,
               '--out-dir', str(tmp_path), '--strengths', '8', '--detector-config',
               RTMDET_SMOKE, '--device', 'cpu']
    run = run_tool(command, timeout=600)
    assert run.returncode != 0 and 'Traceback' not in run.stderr
    assert "detector weights 'torchvision' are Keypoint R-CNN's" in run.stderr
