"""The downstream configs (GPU recipe and smoke) build their datasets and training pipelines on a
builder output, through mmdet's and mmpose's own CocoDataset, after rdid_mm's config shims."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from rdid_mm.reports.downstream import variant_annotations
from rdid_mm.utils.compat import (
    albumentations_v2_args,
    ignore_exif_orientation,
    patch_albumentations_for_mmpose,
)

from tests.conftest import REPO_ROOT

DOWNSTREAM = osp.join(REPO_ROOT, 'configs', 'downstream')
RTMDET_FULL = osp.join(DOWNSTREAM, 'rtmdet_tiny_person_8xb32-300e_deid.py')
RTMPOSE_FULL = osp.join(DOWNSTREAM, 'rtmpose-t_8xb256-420e_deid-256x192.py')


def _dataset(config, deid_sample, tmp_path):
    mosaic = osp.join(deid_sample, 'mosaic', 's8')
    ann = str(tmp_path / 'train.json')
    variant_annotations(osp.join(deid_sample, 'annotations', 'person_keypoints.json'), mosaic, ann)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': '',
                         'train_dataloader.dataset.ann_file': ann,
                         'train_dataloader.dataset.data_prefix': dict(img=mosaic + '/')})
    return cfg


def test_rtmdet_person_config_is_rtmdet_tiny_with_one_class():
    cfg = Config.fromfile(RTMDET_FULL)
    assert cfg.model.bbox_head.num_classes == 1
    assert cfg.train_dataloader.dataset.metainfo.classes == ('person', )
    assert cfg.model.backbone.widen_factor == 0.375 and cfg.max_epochs == 300  # rtmdet_tiny's
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/person_keypoints_val2017.json'


def test_rtmdet_full_training_pipeline_runs_on_the_mosaic_split(deid_sample, tmp_path):
    from mmdet.registry import DATASETS
    from mmengine.registry import DefaultScope
    cfg = _dataset(RTMDET_FULL, deid_sample, tmp_path)
    assert ignore_exif_orientation(cfg) >= 2  # the train pipeline and its stage-2 switch
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        assert len(dataset) == 4
        item = dataset[0]
    assert tuple(item['inputs'].shape) == (3, 640, 640)
    assert len(item['data_samples'].gt_instances) > 0
    assert set(item['data_samples'].gt_instances.labels.tolist()) == {0}


def test_rtmpose_full_training_pipeline_runs_after_the_albumentations_shims(deid_sample,
                                                                            tmp_path):
    from mmengine.registry import DefaultScope
    from mmpose.registry import DATASETS
    cfg = _dataset(RTMPOSE_FULL, deid_sample, tmp_path)
    assert ignore_exif_orientation(cfg) >= 2
    patch_albumentations_for_mmpose()
    # the train and stage-2 pipelines, where used and as the config's own variables
    assert albumentations_v2_args(cfg) == 4
    (albu, ) = [s for s in cfg.train_dataloader.dataset.pipeline if s.type == 'Albumentation']
    dropout = albu.transforms[2]
    assert dropout.num_holes_range == (1, 1) and dropout.hole_height_range == (0.2, 0.4)
    with DefaultScope.overwrite_default_scope('mmpose'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        item = dataset[0]
    # one sample per annotated person with keypoints; the 192 x 256 crop
    assert len(dataset) == 12
    assert tuple(item['inputs'].shape) == (3, 256, 192)
    assert np.asarray(item['data_samples'].gt_instance_labels.keypoint_weights).shape == (1, 17)


@pytest.mark.parametrize('name', ['rtmdet_tiny_person_smoke.py', 'rtmpose-t_smoke.py'])
def test_smoke_configs_are_short_seeded_and_download_nothing(name):
    cfg = Config.fromfile(osp.join(DOWNSTREAM, name))
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == 2
    assert cfg.model.backbone.init_cfg is None and cfg.randomness.seed == 0
    assert cfg.val_dataloader is None and cfg.val_cfg is None
