"""The held-out validation split gets its own small COCO json, written once; the metric uses it."""
import json
import os
import os.path as osp
import random

import pytest

from rdid_mm.datasets.split_annotations import RECORD_KEY, split_annotations
from rdid_mm.evaluation import DetectorAPMetric
from rdid_mm.layout import DeidLayout

from tests.datasets.test_deid_paired_dataset import build, read_json
from tests.evaluation.detector_double import GroundTruthKeypointRCNN


def _expected_val_ids(ann_file, num, seed):
    """DeidPairedDataset's rule, recomputed here: a seeded sample of the sorted ids."""
    ids = sorted(image['id'] for image in read_json(ann_file)['images'])
    return sorted(random.Random(seed).sample(ids, num))


def test_val_split_json_holds_exactly_the_held_out_images(rdid_scope, deid_copy):
    full = DeidLayout(str(deid_copy)).ann_file
    val = build(deid_copy, subset='val', num_val_images=2, split_seed=3, test_mode=True)
    split_file = val.metainfo['ann_file']
    assert val.metainfo['source_ann_file'] == full
    assert osp.dirname(split_file) == osp.join(str(deid_copy), 'annotations', 'splits')
    split, source = read_json(split_file), read_json(full)
    ids = _expected_val_ids(full, 2, 3)
    assert sorted(image['id'] for image in split['images']) == ids
    assert sorted({info['img_id'] for info in val}) == ids
    assert split['annotations'] == [a for a in source['annotations'] if a['image_id'] in ids]
    assert split['annotations'], 'the held-out images have person annotations'
    assert split['categories'] == source['categories']
    assert split[RECORD_KEY]['img_ids'] == ids and split[RECORD_KEY]['split_seed'] == 3
    # the training subset keeps the full file (its weights record hashes that one)
    train = build(deid_copy, subset='train', num_val_images=2, split_seed=3, test_mode=True)
    assert train.metainfo['ann_file'] == full


def test_split_json_is_written_once_and_rewritten_when_stale(rdid_scope, deid_copy):
    first = build(deid_copy, subset='val', num_val_images=1, test_mode=True).metainfo['ann_file']
    stat = os.stat(first)
    again = build(deid_copy, subset='val', num_val_images=1, test_mode=True).metainfo['ann_file']
    assert again == first
    assert (os.stat(again).st_ino, os.stat(again).st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    other = build(deid_copy, subset='val', num_val_images=1, split_seed=5,
                  test_mode=True).metainfo['ann_file']
    assert other != first  # another seed: another file (each named by what it was cut from)
    # a file under the same name that was cut from something else is replaced, not trusted
    data = read_json(first)
    data['images'] = []
    with open(first, 'w') as f:
        json.dump(data, f)
    build(deid_copy, subset='val', num_val_images=1, test_mode=True)
    assert len(read_json(first)['images']) == 1


def test_an_unwritable_dataset_folder_falls_back_to_the_cache(deid_copy, tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    layout = DeidLayout(str(deid_copy))
    blocked = tmp_path / 'blocked'
    blocked.write_text('a file where the splits folder should be')
    path = split_annotations(layout.ann_file, [785], str(blocked / 'splits'))
    assert path.startswith(str(tmp_path / 'home' / '.cache' / 'rdid_mm' / 'splits'))
    assert [image['id'] for image in read_json(path)['images']] == [785]


def test_metric_on_the_val_split_scores_every_image_of_its_json(rdid_scope, deid_copy, tmp_path):
    """AP over the split's own json equals COCOeval on the full json restricted to those ids."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    layout = DeidLayout(str(deid_copy))
    double = GroundTruthKeypointRCNN(layout.ann_file, {
        s['img_id']: {'gt': s['gt_path'], 'mosaic': s['mosaic_path']} for s in layout.samples(8)})
    val = build(deid_copy, subset='val', num_val_images=2, strengths=[8], test_mode=True)
    for explicit in (None, layout.ann_file):  # unset, or the source file: both follow the split
        metric = DetectorAPMetric(explicit, detector=double, pred_key='img_mosaic',
                                  out_dir=str(tmp_path))
        metric.dataset_meta = val.metainfo
        assert metric.ann_file == val.metainfo['ann_file']
        metric.process(None, [val.get_data_info(i) for i in range(len(val))])
        metrics = metric.evaluate(len(val))
        assert len(metric.coco.imgs) == 2

    ids = sorted({info['img_id'] for info in val})
    full = COCO(layout.ann_file)
    detections = full.loadRes(str(tmp_path / 'detections.json'))
    for iou_type, name in (('bbox', 'bbox_AP'), ('keypoints', 'kpt_AP')):
        evaluation = COCOeval(full, detections, iou_type)
        evaluation.params.imgIds = ids
        evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()
        assert metrics[f'coco/{name}'] == pytest.approx(evaluation.stats[0], abs=1e-9)
    assert 0.0 < metrics['coco/bbox_AP'] < 1.0


def test_split_json_lists_only_the_images_the_dataset_kept(rdid_scope, deid_copy):
    """An image whose mosaic is missing is skipped by the dataset and left out of the split json,
    so COCOeval scores exactly the images evaluated."""
    full = DeidLayout(str(deid_copy)).ann_file
    ids = _expected_val_ids(full, 2, 0)
    victim = next(image for image in read_json(full)['images'] if image['id'] == ids[0])
    os.remove(DeidLayout(str(deid_copy)).mosaic(victim['file_name'], 8))
    val = build(deid_copy, subset='val', num_val_images=2, strengths=[8], test_mode=True)
    assert val.skipped == {'missing_file': 1}
    assert [image['id'] for image in read_json(val.metainfo['ann_file'])['images']] == ids[1:]


def test_an_unrelated_explicit_ann_file_is_still_refused(rdid_scope, deid_copy, tmp_path):
    val = build(deid_copy, subset='val', num_val_images=1, test_mode=True)
    other = tmp_path / 'other.json'
    other.write_text('{}')
    metric = DetectorAPMetric(str(other))
    with pytest.raises(ValueError, match='is not the annotation file of the evaluated dataset'):
        metric.dataset_meta = val.metainfo


def test_nowhere_to_write_is_one_error_naming_both_places(deid_copy, tmp_path, monkeypatch):
    from rdid_mm.apis import USER_ERRORS
    from rdid_mm.datasets.split_annotations import SplitAnnotationsError
    blocked = tmp_path / 'blocked'
    blocked.write_text('a file, not a folder')
    monkeypatch.setenv('HOME', str(blocked))
    with pytest.raises(SplitAnnotationsError) as info:
        split_annotations(DeidLayout(str(deid_copy)).ann_file, [785], str(blocked / 'splits'))
    assert isinstance(info.value, USER_ERRORS)
    message = str(info.value)
    assert '\n' not in message and str(blocked / 'splits') in message and '.cache' in message
