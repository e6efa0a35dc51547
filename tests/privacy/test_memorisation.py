"""The memorisation split: a tiny RDID-GAN trained on part of the sample, audited on all of it.

The weights file records its training split; the audit re-derives which images were trained on
and reports them beside the held-out ones, and the warning fires for training images only.
"""
import glob
import json
import os.path as osp
import sys
import warnings

import pytest

from rdid_mm.datasets.training_split import (
    ids_sha256,
    read_training_split,
    training_image_ids,
    training_split_metadata,
)
from rdid_mm.privacy import TrainingSplitWarning, privacy_audit, warn_if_training_split

from tests.helpers import add_training_split, run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG, data_options

NUM_HELD_OUT = 2


@pytest.fixture(scope='module')
def trained(privacy_sample, tmp_path_factory):
    """Two iterations on the sample's training split (2 of 4 images held out), the weights file
    stamped with that split, and the sample restored with it at strength 8."""
    from rdid_mm.apis import init_model
    from rdid_mm.datasets import DeidPairedDataset
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.restore.loop import restore_deid_folder
    work_dir = str(tmp_path_factory.mktemp('memorisation') / 'tiny')
    split = ['train_dataloader.dataset.subset=train',
             f'train_dataloader.dataset.num_val_images={NUM_HELD_OUT}',
             'train_dataloader.dataset.split_seed=0']
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *data_options(privacy_sample, 2), *split], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    weights = sorted(glob.glob(osp.join(work_dir, 'iter_*.safetensors')))[-1]
    dataset = DeidPairedDataset(privacy_sample, strengths=8, subset='train',
                                num_val_images=NUM_HELD_OUT, split_seed=0)
    add_training_split(weights, training_split_metadata(dataset))
    restored = str(tmp_path_factory.mktemp('restored') / 's8')
    restore_deid_folder(model_restorer(init_model(TINY_CONFIG, weights)), privacy_sample, 8,
                        restored)
    train_ids = sorted({info['img_id'] for info in dataset.load_data_list()})
    return dict(weights=weights, restored=restored, train_ids=train_ids)


@pytest.mark.slow
def test_weights_record_the_training_split(trained, privacy_sample):
    record = read_training_split(trained['weights'])
    ann_file = osp.join(privacy_sample, 'annotations', 'person_keypoints.json')
    assert record['num_held_out'] == NUM_HELD_OUT and record['split_seed'] == 0
    assert record['num_train_images'] == len(trained['train_ids']) == 2
    assert record['train_ids_sha256'] == ids_sha256(trained['train_ids'])
    assert sorted(training_image_ids(record, ann_file)) == trained['train_ids']
    assert 'img_id' not in json.dumps(record) and str(trained['train_ids'][0]) not in json.dumps(
        record), 'the record holds hashes, not the ids'


@pytest.mark.slow
def test_audit_reports_training_and_held_out_faces_apart(trained, privacy_sample, tmp_path):
    result = privacy_audit(privacy_sample, ['mosaic:s8', f'restored:tiny={trained["restored"]}'],
                           str(tmp_path / 'audit'), weights=trained['weights'], num_bootstrap=100)
    faces = result['results']
    assert {r.split for r in faces} == {'train', 'held-out'}
    for r in faces:
        assert r.split == ('train' if r.face.img_id in trained['train_ids'] else 'held-out')
    by_split = {(s.row, s.split): s.faces for s in result['summaries'] if s.bucket == 'all'}
    for row in ('original', 'mosaic s8', 'tiny'):
        for split in ('train', 'held-out'):
            assert by_split[(row, split)] == sum(
                r.split == split and r.row == row for r in faces) > 0
    report = open(result['paths']['privacy_audit.md']).read()
    assert '| tiny | train |' in report and '| tiny | held-out |' in report
    assert f'2 of the images are in the training split of {trained["weights"]}' in report


def test_warning_fires_for_training_images_only(trained, privacy_sample):
    ann_file = osp.join(privacy_sample, 'annotations', 'person_keypoints.json')
    with pytest.warns(TrainingSplitWarning, match='2 of the images of .* are in the training '
                      'split'):
        assert warn_if_training_split(trained['weights'], ann_file) == 2
    with open(ann_file) as f:
        held_out = [im['id'] for im in json.load(f)['images'] if im['id'] not in
                    trained['train_ids']]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert warn_if_training_split(trained['weights'], ann_file, held_out) == 0


def test_weights_without_a_record_or_another_dataset_do_not_warn(trained, tmp_path,
                                                                  sample_ann_file):
    from rdid_mm.utils.weights_file import load_state_dict_file, save_state_dict_file
    plain = str(tmp_path / 'plain.safetensors')
    save_state_dict_file(load_state_dict_file(trained['weights']), plain)
    assert read_training_split(plain) is None
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert warn_if_training_split(plain, sample_ann_file) == 0
        # The original COCO json is another file than the one trained on: nothing is known.
        assert warn_if_training_split(trained['weights'], sample_ann_file) == 0
