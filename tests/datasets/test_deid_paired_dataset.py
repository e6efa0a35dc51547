"""DeidPairedDataset reads the builder's output as (mosaic, gt) pairs."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

import rdid_mm.datasets  # noqa: F401
from rdid_mm.registry import DATASETS
from rdid_mm.utils.boxes import box_to_slices

from tests.conftest import REPO_ROOT

PAIR = ['img_mosaic', 'img_gt']
META = ['img_id', 'ori_shape', 'face_boxes', 'gt_path', 'mosaic_path', 'strength']
# The loading steps the configs ship (PIL, EXIF orientation not applied).
LOAD = Config.fromfile(
    osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'deid_coco.py')).load_pair


def build(data_root, **kwargs):
    return DATASETS.build(dict(type='DeidPairedDataset', data_root=str(data_root), **kwargs))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def test_one_sample_per_image_and_strength(rdid_scope, deid_sample):
    images = read_json(osp.join(deid_sample, 'annotations', 'person_keypoints.json'))['images']
    faces = read_json(osp.join(deid_sample, 'faces.json'))
    dataset = build(deid_sample, strengths=[8, 16], test_mode=True)
    assert len(dataset) == 2 * len(images)
    assert sorted(info['strength'] for info in dataset) == [8] * len(images) + [16] * len(images)
    for image in images:
        infos = [info for info in dataset if info['img_id'] == image['id']]
        assert [info['strength'] for info in infos] == [8, 16]
        for info in infos:
            assert info['gt_path'] == osp.join(deid_sample, 'gt', image['file_name'])
            assert info['mosaic_path'] == osp.join(
                deid_sample, 'mosaic', f's{info["strength"]}',
                osp.splitext(image['file_name'])[0] + '.png')
            assert info['img_mosaic_path'] == info['mosaic_path']
            assert info['ori_shape'] == (image['height'], image['width'])
            assert info['face_boxes'] == [box[:4] for box in faces.get(image['file_name'], [])]


def test_training_crops_contain_a_face_and_are_paired_and_flipped_together(
        rdid_scope, deid_sample):
    """Outside the face boxes the mosaic equals the original pixel for pixel, so a crop or flip
    that differed between the two images would show up as a difference there."""
    pipeline = LOAD + [
        dict(type='FaceAwareCrop', keys=PAIR, crop_size=(48, 64)),
        dict(type='Flip', keys=PAIR, flip_ratio=0.5, direction='horizontal'),
    ]
    dataset = build(deid_sample, strengths=[8], filter_cfg=dict(require_faces=True),
                    pipeline=pipeline)
    assert len(dataset) > 0
    np.random.seed(0)
    flips = set()
    for idx in range(len(dataset)):
        for _ in range(4):
            results = dataset[idx]
            mosaic, gt = results['img_mosaic'], results['img_gt']
            assert mosaic.shape == gt.shape == (48, 64, 3)
            assert results['face_boxes'], 'the crop holds no face'
            flipped = results['flip_infos'][-1]['flip']
            flips.add(flipped)
            inside = np.zeros((48, 64), bool)
            for box in results['face_boxes']:
                rows, cols = box_to_slices(box, 48, 64)
                inside[rows, cols] = True
            if flipped:
                inside = inside[:, ::-1]
            assert np.array_equal(mosaic[~inside], gt[~inside])
            assert not np.array_equal(mosaic[inside], gt[inside])
    assert flips == {True, False}


def test_require_faces_skips_and_counts_images_without_faces(rdid_scope, deid_copy):
    faces_path = osp.join(deid_copy, 'faces.json')
    faces = read_json(faces_path)
    dropped = next(name for name, boxes in faces.items() if boxes)
    faces[dropped] = []
    with open(faces_path, 'w') as f:
        json.dump(faces, f)
    every = build(deid_copy, strengths=[8], test_mode=True)
    with_faces = build(deid_copy, strengths=[8], filter_cfg=dict(require_faces=True))
    assert with_faces.skipped['no_face'] == len(every) - len(with_faces) >= 1
    assert all(info['face_boxes'] for info in with_faces)


def test_missing_files_are_skipped_and_counted(rdid_scope, deid_copy):
    victim = sorted(os.listdir(osp.join(deid_copy, 'mosaic', 's16')))[0]
    os.remove(osp.join(deid_copy, 'mosaic', 's16', victim))
    dataset = build(deid_copy, strengths=[8, 16], test_mode=True)
    full = build(deid_copy, strengths=[8], test_mode=True)
    assert len(dataset) == 2 * len(full) - 1
    assert dataset.skipped == {'missing_file': 1}


def test_bad_layouts_name_the_problem(rdid_scope, deid_copy):
    with pytest.raises(FileNotFoundError, match=r's4'):
        build(deid_copy, strengths=[4])
    with pytest.raises(ValueError, match='positive integers'):
        build(deid_copy, strengths=[0])
    os.remove(osp.join(deid_copy, 'faces.json'))
    with pytest.raises(FileNotFoundError, match='faces.json'):
        build(deid_copy, strengths=[8])


def test_malformed_face_box_names_the_file(rdid_scope, deid_copy):
    faces_path = osp.join(deid_copy, 'faces.json')
    faces = read_json(faces_path)
    faces[next(iter(faces))] = [[1, 2]]
    with open(faces_path, 'w') as f:
        json.dump(faces, f)
    with pytest.raises(ValueError, match='faces.json'):
        build(deid_copy, strengths=[8])


def test_size_mismatch_names_both_files(rdid_scope, deid_copy):
    import cv2
    info = build(deid_copy, strengths=[8], test_mode=True)[0]
    mosaic_path = info['mosaic_path']
    image = cv2.imread(mosaic_path)
    cv2.imwrite(mosaic_path, image[:-2])
    dataset = build(deid_copy, strengths=[8], test_mode=True, pipeline=LOAD)
    with pytest.raises(ValueError, match=osp.basename(mosaic_path)):
        dataset.prepare_data(0)


def test_validation_split_is_held_out_from_training_images(rdid_scope, deid_sample):
    images = read_json(osp.join(deid_sample, 'annotations', 'person_keypoints.json'))['images']
    all_ids = {image['id'] for image in images}
    val = build(deid_sample, subset='val', num_val_images=1, test_mode=True)
    train = build(deid_sample, subset='train', num_val_images=1, test_mode=True)
    val_ids = {info['img_id'] for info in val}
    train_ids = {info['img_id'] for info in train}
    assert len(val_ids) == 1 and len(train_ids) == len(all_ids) - 1
    assert val_ids | train_ids == all_ids and not val_ids & train_ids
    again = build(deid_sample, subset='val', num_val_images=1, test_mode=True)
    assert {info['img_id'] for info in again} == val_ids, 'the split must be reproducible'
    other_seed = {frozenset(info['img_id'] for info in build(
        deid_sample, subset='val', num_val_images=1, split_seed=seed, test_mode=True))
        for seed in range(8)}
    assert len(other_seed) > 1, 'the seed must choose the held-out images'


def test_validation_split_errors_name_the_problem(rdid_scope, deid_sample):
    with pytest.raises(ValueError, match='needs num_val_images >= 1'):
        build(deid_sample, subset='val')
    with pytest.raises(ValueError, match='cannot hold out 4 validation images from 4'):
        build(deid_sample, subset='train', num_val_images=4)
    with pytest.raises(ValueError, match="subset must be 'all', 'train' or 'val'"):
        build(deid_sample, subset='test')
