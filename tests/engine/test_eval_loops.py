"""The eval loops give the model its config's restore mode: region mode for a model trained on
face crops, so validation (save_best) and tools/test.py restore as tools/restore.py does."""
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from rdid_mm.engine.eval_loops import set_restore_mode
from rdid_mm.models.restore_mode import REGION, WHOLE

from tests.conftest import REPO_ROOT

TINY = 'configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py'
RESIZE = 'configs/rdid_gan/rdid-gan_resnet-cbam_8xb4-resize256-100e_deid-coco.py'


class Model:
    restore_mode = None


@pytest.mark.parametrize('config, mode', [(TINY, REGION), (RESIZE, WHOLE)])
def test_the_config_sets_the_mode(config, mode):
    model = Model()
    set_restore_mode(SimpleNamespace(model=model, cfg=Config.fromfile(osp.join(REPO_ROOT, config))))
    assert model.restore_mode == mode


def test_a_mode_the_model_has_is_kept_and_other_models_are_left_alone():
    cfg = Config.fromfile(osp.join(REPO_ROOT, TINY))
    model = Model()
    model.restore_mode = WHOLE
    set_restore_mode(SimpleNamespace(model=model, cfg=cfg))
    assert model.restore_mode == WHOLE
    other = SimpleNamespace()
    set_restore_mode(SimpleNamespace(model=other, cfg=cfg))
    assert not hasattr(other, 'restore_mode')


def test_a_runners_val_and_test_loops_give_the_model_region_mode(tmp_path, deid_sample):
    """Built by a Runner, as training (save_best) and tools/test.py build them."""
    from mmengine.runner import Runner
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{osp.join(REPO_ROOT, TINY)}']\ndata_root = '{deid_sample}'\n")
    cfg = Config.fromfile(str(child))
    cfg.work_dir = str(tmp_path / 'work')
    for build, loop_cfg in (('build_val_loop', cfg.val_cfg), ('build_test_loop', cfg.test_cfg)):
        runner = Runner.from_cfg(cfg)
        assert runner.model.restore_mode is None
        getattr(runner, build)(loop_cfg)
        assert runner.model.restore_mode == REGION, build
