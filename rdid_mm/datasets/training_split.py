"""Which images a model was trained on, recorded in its weights file and read back.

A weights file (``.safetensors``) carries string metadata; the key ``rdid_mm_training_split``
holds the JSON of :func:`training_split_metadata`: the sha256 of the training annotation file, the
split seed, the number of held-out images and a sha256 of the sorted training image ids. The ids
themselves are not stored: :func:`training_image_ids` re-derives them from the same annotation
file with ``DeidPairedDataset``'s own rule and checks them against the hash, so a weights file
reveals nothing about the data but lets the audit and the restore tools recognise it.

It lives with the datasets (it reads only annotation files and weights files) so that the engine's
Runner can stamp every weights file it writes; the warning built on it is in
:mod:`rdid_mm.privacy.training_split_warning`.
"""
import hashlib
import json
import os.path as osp
import random
from typing import Iterable, Optional, Set

from rdid_mm.utils.provenance import file_sha256

METADATA_KEY = 'rdid_mm_training_split'


def ids_sha256(ids: Iterable[int]) -> str:
    text = ','.join(str(i) for i in sorted(int(i) for i in ids))
    return hashlib.sha256(text.encode()).hexdigest()


def split_ids(all_ids, subset: str, num_held_out: int, seed: int) -> Set[int]:
    """The ids of ``subset`` (``DeidPairedDataset``'s rule, here and nowhere else): a seeded
    sample of the sorted ids is held out."""
    ids = sorted(int(i) for i in all_ids)
    if subset == 'all' or num_held_out == 0:
        return set(ids)
    held_out = set(random.Random(seed).sample(ids, num_held_out))
    return {i for i in ids if i not in held_out} if subset == 'train' else held_out


def training_split_metadata(dataset) -> dict:
    """The record of a training dataset (a ``DeidPairedDataset``) to store in a weights file."""
    with open(dataset.ann_file) as f:
        all_ids = [int(image['id']) for image in json.load(f)['images']]
    subset = getattr(dataset, 'subset', 'all')
    num_held_out = int(getattr(dataset, 'num_val_images', 0)) if subset != 'all' else 0
    seed = int(getattr(dataset, 'split_seed', 0))
    trained = split_ids(all_ids, subset, num_held_out, seed)
    return dict(ann_sha256=file_sha256(dataset.ann_file), subset=subset, split_seed=seed,
                num_held_out=num_held_out, num_train_images=len(trained),
                train_ids_sha256=ids_sha256(trained))


def read_training_split(weights_path: str) -> Optional[dict]:
    """The training-split record of a weights file, or None (no record, or not safetensors)."""
    if not osp.isfile(weights_path):
        raise FileNotFoundError(f'weights file not found: {weights_path}')
    if not weights_path.endswith('.safetensors'):
        return None
    from safetensors import safe_open
    with safe_open(weights_path, framework='pt') as f:
        metadata = f.metadata() or {}
    if METADATA_KEY not in metadata:
        return None
    try:
        return json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError:
        raise ValueError(f'{weights_path}: unreadable {METADATA_KEY} metadata') from None


def training_image_ids(record: dict, ann_file: str) -> Optional[Set[int]]:
    """The training image ids of ``record`` if ``ann_file`` is the annotation file trained on.

    None when it is another file (different sha256): then no image of it is known to be trained
    on. A matching file whose re-derived ids miss the recorded hash is an error.
    """
    if file_sha256(ann_file) != record.get('ann_sha256'):
        return None
    with open(ann_file) as f:
        all_ids = [int(image['id']) for image in json.load(f)['images']]
    trained = split_ids(all_ids, record.get('subset', 'train'), int(record['num_held_out']),
                         int(record['split_seed']))
    if ids_sha256(trained) != record.get('train_ids_sha256'):
        raise ValueError(f'{ann_file}: matches the training annotation file, but the training '
                         'split re-derived from it does not match the recorded hash')
    return trained
