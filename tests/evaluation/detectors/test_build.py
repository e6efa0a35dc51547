"""build_detector dispatches on the settings; identities key caches; imports stay light."""
import subprocess
import sys

import pytest
import torch

from rdid_mm.evaluation.detectors import build_detector, describe_detector, detector_identity
from rdid_mm.evaluation.detectors.build import detector_scope

from .conftest import RTMDET_SMOKE, RTMPOSE_SMOKE


def _loaded_openmmlab_libraries(module):
    code = (f'import sys, {module}; '
            'print(sorted({m.split(".")[0] for m in sys.modules} & {"mmdet", "mmpose"}))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
def test_importing_the_detectors_package_loads_neither_mmdet_nor_mmpose():
    assert _loaded_openmmlab_libraries('rdid_mm.evaluation.detectors') == '[]'
    # mmdet does come with the engine: mmagic's crop transform try_imports mmdet.apis
    assert _loaded_openmmlab_libraries('rdid_mm.reports.downstream') == "['mmdet']"


def test_without_a_config_it_is_keypoint_rcnn():
    detector = build_detector(dict(weights='none', min_size=128, max_size=128))
    assert type(detector).__name__ == 'KeypointRCNN'
    assert detector_scope({}) == 'torchvision'
    assert detector_identity(dict(weights='none'))['weights'] == 'random'
    assert 'torchvision keypointrcnn_resnet50_fpn, random weights' in describe_detector(
        dict(weights=None))


def test_scopes_and_bad_settings():
    assert detector_scope(dict(config=RTMDET_SMOKE)) == 'mmdet'
    assert detector_scope(dict(config=RTMPOSE_SMOKE)) == 'mmpose'
    with pytest.raises(TypeError, match=r"unknown settings \['boxes'\] for an mmdet detector"):
        build_detector(dict(config=RTMDET_SMOKE, weights='none', boxes='gt'))
    with pytest.raises(ValueError, match="'torchvision' are Keypoint R-CNN's"):
        build_detector(dict(config=RTMDET_SMOKE, weights='torchvision'))
    with pytest.raises(FileNotFoundError, match='detector config file not found: .*nope.py'):
        build_detector(dict(config='nope.py', weights='none'))


def test_non_openmmlab_config_is_refused(tmp_path):
    cfg = tmp_path / 'other.py'
    cfg.write_text("default_scope = 'mmagic'\nmodel = dict(type='X')\n")
    with pytest.raises(ValueError, match="default_scope is 'mmagic'; expected an mmdet or mmpose"):
        build_detector(dict(config=str(cfg), weights='none'))


def test_identity_follows_the_config_text_and_the_weights_content(tmp_path):
    base = detector_identity(dict(config=RTMDET_SMOKE, weights='none'))
    assert base['weights'] == 'random' and base['architecture'] == 'mmdet:RTMDet'
    changed = detector_identity(dict(config=RTMDET_SMOKE, weights='none',
                                     cfg_options={'model.test_cfg.score_thr': 0.3}))
    assert changed['config_sha256'] != base['config_sha256']
    weights = tmp_path / 'w.pth'
    torch.save({'a': torch.zeros(2)}, weights)
    first = detector_identity(dict(config=RTMDET_SMOKE, weights=str(weights)))
    torch.save({'a': torch.ones(2)}, weights)
    second = detector_identity(dict(config=RTMDET_SMOKE, weights=str(weights)))
    assert first['weights'] != second['weights']
    pose = detector_identity(dict(config=RTMPOSE_SMOKE, weights='none'))
    assert pose['boxes'] == 'gt'


def test_building_and_running_openmmlab_models_keeps_the_callers_default_scope(sample_images):
    """init_detector / init_model / inference_topdown make their scope current for good (mmengine's
    init_default_scope); rdid_mm's must still be current afterwards, or CBAM no longer builds."""
    from mmengine.registry import DefaultScope

    import rdid_mm.models  # noqa: F401  (registers CBAM)
    from rdid_mm.registry import MODELS
    from rdid_mm.utils.io import read_rgb
    img_ids, paths = sample_images
    image = read_rgb(paths[0])
    pose_cfg = dict(config=RTMPOSE_SMOKE, weights='none', box_score_thr=0.0, max_boxes=1,
                    boxes=dict(config=RTMDET_SMOKE, weights='none'))
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        build_detector(pose_cfg).detect([image], [img_ids[0]])
        assert DefaultScope.get_current_instance().scope_name == 'rdid_mm'
        assert type(MODELS.build(dict(type='CBAM', channels=4))).__name__ == 'CBAM'
