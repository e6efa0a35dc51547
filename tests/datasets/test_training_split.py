"""The training-split record (rdid_mm.datasets.training_split) without training: re-deriving ids,
a forged hash, other files."""
import json

import pytest
import torch

from rdid_mm.datasets.training_split import (
    METADATA_KEY,
    ids_sha256,
    read_training_split,
    training_image_ids,
)
from rdid_mm.utils.provenance import file_sha256

from tests.helpers import add_training_split


def weights_with(tmp_path, record):
    from safetensors.torch import save_file
    path = str(tmp_path / 'w.safetensors')
    save_file({'w': torch.zeros(2)}, path)
    if record is not None:
        add_training_split(path, record)
    return path


def test_ids_are_re_derived_with_the_datasets_rule(tmp_path, sample_ann_file):
    import random
    with open(sample_ann_file) as f:
        ids = sorted(im['id'] for im in json.load(f)['images'])
    held_out = set(random.Random(3).sample(ids, 1))  # DeidPairedDataset._select_subset's rule
    trained = [i for i in ids if i not in held_out]
    record = dict(ann_sha256=file_sha256(sample_ann_file), subset='train', split_seed=3,
                  num_held_out=1, num_train_images=3, train_ids_sha256=ids_sha256(trained))
    path = weights_with(tmp_path, record)
    assert read_training_split(path) == record
    assert sorted(training_image_ids(record, sample_ann_file)) == trained
    from safetensors.torch import load_file
    assert torch.equal(load_file(path)['w'], torch.zeros(2)), 'tensors kept'


def test_a_record_whose_hash_does_not_match_is_an_error(tmp_path, sample_ann_file):
    record = dict(ann_sha256=file_sha256(sample_ann_file), subset='train', split_seed=0,
                  num_held_out=1, train_ids_sha256=ids_sha256([1, 2, 3]))
    with pytest.raises(ValueError, match='the training split re-derived from it does not match'):
        training_image_ids(record, sample_ann_file)


def test_files_without_a_record(tmp_path):
    assert read_training_split(weights_with(tmp_path, None)) is None
    pth = tmp_path / 'w.pth'
    torch.save({'w': torch.zeros(1)}, pth)
    assert read_training_split(str(pth)) is None
    with pytest.raises(FileNotFoundError, match='weights file not found'):
        read_training_split(str(tmp_path / 'missing.safetensors'))


def test_unreadable_record_is_named(tmp_path):
    from safetensors.torch import save_file
    path = str(tmp_path / 'bad.safetensors')
    save_file({'w': torch.zeros(1)}, path, metadata={METADATA_KEY: '{not json'})
    with pytest.raises(ValueError, match=f'unreadable {METADATA_KEY} metadata'):
        read_training_split(path)
