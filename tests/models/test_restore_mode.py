"""Region mode wherever the model was trained on face crops; whole-image mode for a model trained
on whole (resized) images."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from rdid_mm.models.restore_mode import REGION, WHOLE, default_mode

from tests.conftest import REPO_ROOT

MODEL_CONFIGS = sorted(set(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))
                       - set(glob.glob(osp.join(REPO_ROOT, 'configs', 'downstream', '*.py')))
                       - set(glob.glob(osp.join(REPO_ROOT, 'configs', '_base_', '*.py'))))


@pytest.mark.parametrize('path', MODEL_CONFIGS, ids=osp.basename)
def test_shipped_configs_get_the_mode_of_their_training_crops(path):
    cfg = Config.fromfile(path)
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    expected = REGION if 'FaceAwareCrop' in types else WHOLE
    assert default_mode(cfg) == expected
    assert (expected == WHOLE) == ('resize256' in path)  # the one whole-image config


def test_a_config_without_training_data_restores_regions():
    assert default_mode(Config(dict(model=dict(type='RDIDGAN')))) == REGION
