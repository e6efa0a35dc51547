"""``tools/restore.py`` and ``tools/eval_table.py`` warn, in one line, when asked to restore or
score images of the model's own training split, and stay silent for held-out images.

The weights come from a real 2-iteration run on the sample's training split (RDIDRunner stamps
the record); the held-out images are the 2 of 4 the run left out, listed in their own json.
"""
import json
import os.path as osp
import sys

import pytest

from rdid_mm.datasets import DeidPairedDataset

from tests.conftest import REPO_ROOT
from tests.engine.test_runner_training_split import NUM_HELD_OUT, train_on_split
from tests.helpers import run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG

SMALL_DETECTOR = ['--detector-weights', 'none', '--min-size', '128', '--max-size', '192',
                  '--detections-per-img', '5', '--device', 'cpu', '--bootstrap', '20']


@pytest.fixture(scope='module')
def split_run(deid_sample, tmp_path_factory):
    """The last weights file of the run, the training annotation file, and a json of the
    held-out images only."""
    weights = train_on_split(deid_sample, str(tmp_path_factory.mktemp('split_run') / 'tiny'))[-1]
    ann_file = osp.join(deid_sample, 'annotations', 'person_keypoints.json')
    held_out = {info['img_id'] for info in DeidPairedDataset(
        deid_sample, strengths=8, subset='val', num_val_images=NUM_HELD_OUT,
        split_seed=0).load_data_list()}
    with open(ann_file) as f:
        coco = json.load(f)
    coco['images'] = [img for img in coco['images'] if img['id'] in held_out]
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] in held_out]
    held_out_file = str(tmp_path_factory.mktemp('held_out') / 'held_out.json')
    with open(held_out_file, 'w') as f:
        json.dump(coco, f)
    return dict(weights=weights, ann_file=ann_file, held_out_file=held_out_file)


def training_split_warnings(name, *args):
    """The 'training split' lines ``tools/<name>`` prints (it must exit 0)."""
    result = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', name), *args], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stderr.splitlines() if 'training split' in line]


def assert_one_warning(lines, tool, ann_file, weights):
    assert len(lines) == 1, lines
    assert lines[0].startswith(f'{tool}: warning: ')
    assert f'2 of the images of {ann_file} are in the training split of {weights}' in lines[0]


@pytest.mark.slow
def test_restore_warns_for_training_images_only(split_run, deid_sample, tmp_path):
    weights = split_run['weights']
    lines = training_split_warnings('restore.py', TINY_CONFIG, weights, '--deid-dir', deid_sample,
                     '--strength', '8', '--out', str(tmp_path / 'deid'))
    assert_one_warning(lines, 'restore.py', split_run['ann_file'], weights)
    gt_dir = osp.join(deid_sample, 'gt')
    lines = training_split_warnings('restore.py', TINY_CONFIG, weights, '--input', gt_dir,
                                    '--whole-image', '--ann-file', split_run['ann_file'],
                                    '--out', str(tmp_path / 'input'))
    assert_one_warning(lines, 'restore.py', split_run['ann_file'], weights)
    out_dir = tmp_path / 'held_out'
    assert training_split_warnings('restore.py', TINY_CONFIG, weights, '--input', gt_dir,
                                   '--whole-image', '--ann-file', split_run['held_out_file'],
                                   '--out', str(out_dir)) == []
    assert len(list(out_dir.glob('*.png'))) == NUM_HELD_OUT, 'the held-out images were restored'


@pytest.mark.slow
def test_eval_table_warns_for_training_images_only(split_run, deid_sample, tmp_path):
    weights = split_run['weights']
    model = ['--model', 'Tiny', TINY_CONFIG, weights, '--strengths', '8']
    lines = training_split_warnings('eval_table.py', deid_sample, '--out-dir',
                                    str(tmp_path / 'all'), *model, *SMALL_DETECTOR)
    assert len(lines) == 1 and lines[0].startswith('eval_table.py: warning: row Tiny: '), lines
    assert (f'2 of the images of {split_run["ann_file"]} are in the training split of '
            f'{weights}') in lines[0]
    assert training_split_warnings('eval_table.py', deid_sample, '--out-dir',
                                   str(tmp_path / 'held_out'), *model, '--ann-file',
                                   split_run['held_out_file'], *SMALL_DETECTOR) == []
    assert osp.isfile(tmp_path / 'held_out' / 'table1.md')
