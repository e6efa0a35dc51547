"""build_detector dispatches on the settings; identities key caches; imports stay light."""
import subprocess
import sys

import pytest
import torch

from rdid_mm.evaluation.detectors import build_detector, describe_detector, detector_identity
from rdid_mm.evaluation.detectors.build import detector_scope

from .conftest import RTMDET_SMOKE, RTMPOSE_SMOKE


def test_importing_the_detectors_package_loads_neither_mmdet_nor_mmpose():
    code = ('import sys, rdid_mm.evaluation.detectors, rdid_mm.apis.downstream; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("mmdet", "mmpose")))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


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
