"""One layout through every stage: nested sub-folders, two images with the same basename, JPEG
mosaics; builder -> dataset -> eval_table -> restore."""
import csv
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from rdid_mm.apis import init_model
from rdid_mm.deid import build_deid_dataset
from rdid_mm.layout import DeidLayout
from rdid_mm.models.restorers import model_restorer
from rdid_mm.reports import make_table1
from rdid_mm.restore.loop import restore_deid_folder
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb

from tests.evaluation.detector_double import SMALL_DETECTOR
from tests.helpers import random_weights_file
from tests.reports.test_table1 import TINY_RDID_GAN

NAMES = {785: 'a/x.jpg', 40083: 'b/deeper/x.jpg'}  # same basename, other folders and sizes


@pytest.fixture(scope='module')
def nested_jpeg_build(tmp_path_factory, sample_ann_file, sample_img_dir):
    root = tmp_path_factory.mktemp('nested')
    coco = json.load(open(sample_ann_file))
    coco['images'] = [dict(im, file_name=NAMES[im['id']]) for im in coco['images']
                      if im['id'] in NAMES]
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] in NAMES]
    for image_id, name in NAMES.items():
        target = root / 'images' / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(osp.join(sample_img_dir, f'{image_id:012d}.jpg'), target)
    (root / 'coco.json').write_text(json.dumps(coco))
    out_dir = str(root / 'deid')
    build_deid_dataset(ann_file=str(root / 'coco.json'), img_dir=str(root / 'images'),
                       out_dir=out_dir, strengths=(8, ), face_sources=('coco_keypoints', ),
                       jpeg_quality=90, progress=False)
    return out_dir


def test_builder_writes_nested_jpeg_mosaics(nested_jpeg_build):
    for name in NAMES.values():
        stem = osp.splitext(name)[0]
        assert osp.isfile(osp.join(nested_jpeg_build, 'mosaic', 's8', stem + '.jpg'))
        assert osp.isfile(osp.join(nested_jpeg_build, 'gt', name))
    assert DeidLayout(nested_jpeg_build).mosaic_ext == '.jpg'


def test_dataset_pairs_the_right_files(nested_jpeg_build, sample_img_dir):
    from mmengine.registry import DefaultScope

    from rdid_mm.engine import register_all_modules
    from rdid_mm.registry import DATASETS
    register_all_modules()
    pipeline = [dict(type='LoadRGBImage', key='img_mosaic'),
                dict(type='LoadRGBImage', key='img_gt'),
                dict(type='CheckPairedImages', keys=['img_mosaic', 'img_gt'])]
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dict(type='DeidPairedDataset', data_root=nested_jpeg_build,
                                      strengths=[8], pipeline=pipeline))
    assert len(dataset) == 2
    for index in range(2):
        info = dataset.get_data_info(index)
        name = NAMES[info['img_id']]
        assert info['mosaic_path'].endswith(osp.splitext(name)[0] + '.jpg')
        assert info['gt_path'].endswith(name)
        item = dataset[index]
        original = read_rgb(osp.join(sample_img_dir, f'{info["img_id"]:012d}.jpg'))
        np.testing.assert_array_equal(item['img_gt'], original)
        assert item['img_mosaic'].shape == original.shape


@pytest.fixture(scope='module')
def tiny_weights(tmp_path_factory):
    return random_weights_file(TINY_RDID_GAN,
                               str(tmp_path_factory.mktemp('w') / 'tiny.safetensors'))


@pytest.mark.slow
def test_eval_table_and_restore_read_the_same_files(nested_jpeg_build, tiny_weights, tmp_path):
    paths = make_table1(nested_jpeg_build, str(tmp_path / 'table'), strengths=[8],
                        models=[('RDID-GAN', TINY_RDID_GAN, tiny_weights)],
                        detector=SMALL_DETECTOR, device='cpu', num_bootstrap=20)
    rows = list(csv.DictReader(open(paths['csv'])))
    assert [r['row'] for r in rows] == ['GT', 'Mosaic s8', 'RDID-GAN s8']
    cached = osp.join(tmp_path, 'table', 'cache', 'rows', 'model-RDID-GAN-s8', 'images', 's8')
    layout = DeidLayout(nested_jpeg_build)
    faces = layout.faces()
    model = init_model(TINY_RDID_GAN, tiny_weights)
    counts = restore_deid_folder(model_restorer(model), nested_jpeg_build, 8,
                                 str(tmp_path / 'restored'))
    assert counts['restored'] == 2
    for image_id, name in NAMES.items():
        stem = osp.splitext(name)[0]
        mosaic = read_rgb(layout.mosaic(name, 8))
        from_table = read_rgb(osp.join(cached, stem + '.png'))
        restored = read_rgb(str(tmp_path / 'restored' / (stem + '.png')))
        assert from_table.shape == restored.shape == mosaic.shape
        # a model trained on crops: Table 1 restores with the same region-mode loop
        np.testing.assert_array_equal(from_table, restored)
        outside = np.ones(mosaic.shape[:2], bool)
        for box in faces[name]:
            outside[box_to_slices(box, *mosaic.shape[:2])] = False
        np.testing.assert_array_equal(restored[outside], mosaic[outside])
        assert faces[name], f'{name}: the keypoint face source found no face'
