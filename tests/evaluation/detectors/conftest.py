"""Configs and images of the detector-wrapper tests: small OpenMMLab models, random weights."""
import json
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

RTMDET_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmdet_tiny_person_smoke.py')
RTMPOSE_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmpose-t_smoke.py')
# mmdet's own COCO-80 RTMDet-tiny, at 160 px for CPU speed
RTMDET_COCO = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
RTMDET_COCO_160 = {'test_dataloader.dataset.pipeline.1.scale': (160, 160),
                   'test_dataloader.dataset.pipeline.2.size': (160, 160)}


@pytest.fixture(scope='session')
def sample_images(sample_ann_file, sample_img_dir):
    """(image ids, file paths) of the sample, sorted by id."""
    with open(sample_ann_file) as f:
        images = sorted(json.load(f)['images'], key=lambda im: im['id'])
    return [im['id'] for im in images], [osp.join(sample_img_dir, im['file_name'])
                                         for im in images]
