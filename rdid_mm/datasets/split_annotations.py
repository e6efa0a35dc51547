"""The held-out validation images' own small COCO json, written once beside the dataset.

COCO's tools score every image an annotation file lists. Without a file of its own, a validation
split of 500 images drawn from train2017 would make every run load the whole training json
(hundreds of MB) into the metric and the reference rows, and restrict COCOeval to the images it
saw. :func:`split_annotations` writes the split's images, their annotations and the categories
to ``ROOT/annotations/splits/`` once (named by the source file's stem and sha256, the subset, its
size and seed) and reuses it afterwards; the validation dataset names it in its metainfo, so the
metric follows it.
"""
import json
import os
import os.path as osp
from typing import Iterable

from mmengine.logging import print_log

from rdid_mm.utils.io import atomic_write_json
from rdid_mm.utils.provenance import file_sha256

RECORD_KEY = 'rdid_mm_split'


class SplitAnnotationsError(OSError):
    """The split's json can be written neither beside the dataset nor in the cache."""
FALLBACK_DIR = osp.join('~', '.cache', 'rdid_mm', 'splits')


def split_record(ann_file: str, img_ids: Iterable[int], subset: str, split_seed: int) -> dict:
    """What a split file was cut from: the source's sha256, the subset, its seed and its ids."""
    return dict(source=osp.abspath(ann_file), source_sha256=file_sha256(ann_file),
                subset=subset, split_seed=int(split_seed),
                img_ids=sorted(int(i) for i in img_ids))


def split_file_name(record: dict) -> str:
    stem = osp.splitext(osp.basename(record['source']))[0]
    return (f"{stem}.{record['subset']}{len(record['img_ids'])}-seed{record['split_seed']}-"
            f"{record['source_sha256'][:8]}.json")


def _matches(path: str, record: dict) -> bool:
    try:
        with open(path, encoding='utf-8') as f:
            existing = json.load(f)
    except (OSError, ValueError):
        return False
    if not isinstance(existing, dict) or existing.get(RECORD_KEY) != record:
        return False
    images = existing.get('images')
    return isinstance(images, list) and sorted(
        int(image.get('id', -1)) for image in images) == record['img_ids']


def _cut(ann_file: str, record: dict) -> dict:
    with open(ann_file, encoding='utf-8') as f:
        source = json.load(f)
    ids = set(record['img_ids'])
    split = {key: value for key, value in source.items() if key not in ('images', 'annotations')}
    split['images'] = [image for image in source['images'] if int(image['id']) in ids]
    split['annotations'] = [ann for ann in source.get('annotations', [])
                            if int(ann.get('image_id', -1)) in ids]
    split[RECORD_KEY] = record
    return split


def split_annotations(ann_file: str, img_ids: Iterable[int], folder: str, subset: str = 'val',
                      split_seed: int = 0) -> str:
    """The path of the split's own json under ``folder``, written there if not already.

    A file that exists but was cut from another source, seed or id set is rewritten; a folder
    that cannot be written falls back to ``~/.cache/rdid_mm/splits`` (logged).
    """
    record = split_record(ann_file, img_ids, subset, split_seed)
    name = split_file_name(record)
    problems = []
    for where in (folder, osp.expanduser(FALLBACK_DIR)):
        path = osp.join(where, name)
        if _matches(path, record):
            return path
        try:
            os.makedirs(where, exist_ok=True)
            atomic_write_json(path, _cut(ann_file, record))
        except OSError as err:
            problems.append(f'{where}: {err.strerror or err}')
            if where == folder:
                print_log(f'cannot write the {subset} split annotations to {where} ({err}); '
                          f'writing them to {FALLBACK_DIR}', logger='current', level=30)
            continue
        print_log(f'wrote the {subset} split annotations ({len(record["img_ids"])} images of '
                  f'{ann_file}) to {path}', logger='current')
        return path
    raise SplitAnnotationsError(f'cannot write the {subset} split annotations of {ann_file} '
                                f'({"; ".join(problems)})')
