"""Every weights file RDIDRunner writes records its training split (no stamping after the fact).

A tiny RDID-GAN trained two iterations on the sample's training split (2 of 4 images held out):
the record read back from the Runner's own weights file equals one computed independently from
the annotation file and ``DeidPairedDataset``'s own choice of training images.
"""
import glob
import json
import os.path as osp
import sys

import pytest

from rdid_mm.datasets import DeidPairedDataset
from rdid_mm.datasets.training_split import (
    METADATA_KEY,
    ids_sha256,
    read_training_split,
    training_image_ids,
)
from rdid_mm.utils.provenance import file_sha256
from rdid_mm.utils.weights_file import weights_file_metadata

from tests.helpers import run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG, data_options

NUM_HELD_OUT = 2
SPLIT_OPTIONS = ['train_dataloader.dataset.subset=train',
                 f'train_dataloader.dataset.num_val_images={NUM_HELD_OUT}',
                 'train_dataloader.dataset.split_seed=0']


def train_on_split(deid_sample, work_dir):
    """``tools/train.py`` on the sample's training split, 2 iterations; the weights files."""
    result = run_tool(
        [sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *data_options(deid_sample, 2), *SPLIT_OPTIONS], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return sorted(glob.glob(osp.join(work_dir, 'iter_*.safetensors')))


@pytest.fixture(scope='module')
def split_weights(deid_sample, tmp_path_factory):
    return train_on_split(deid_sample, str(tmp_path_factory.mktemp('split_run') / 'tiny'))


@pytest.mark.slow
def test_every_weights_file_of_a_run_records_its_training_split(split_weights, deid_sample):
    ann_file = osp.join(deid_sample, 'annotations', 'person_keypoints.json')
    trained = sorted({info['img_id'] for info in DeidPairedDataset(
        deid_sample, strengths=8, subset='train', num_val_images=NUM_HELD_OUT,
        split_seed=0).load_data_list()})
    assert len(trained) == 2
    assert split_weights, 'the run wrote no weights file'
    for weights in split_weights:
        record = read_training_split(weights)
        assert record == dict(ann_sha256=file_sha256(ann_file), subset='train', split_seed=0,
                              num_held_out=NUM_HELD_OUT, num_train_images=2,
                              train_ids_sha256=ids_sha256(trained)), weights
        assert sorted(training_image_ids(record, ann_file)) == trained
        metadata = weights_file_metadata(weights)
        assert metadata['written_by'] and json.loads(metadata[METADATA_KEY]) == record
