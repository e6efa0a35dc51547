"""Building the evaluation detector: random, from a file, and the errors for bad files."""
import urllib.error

import pytest
import torch
from safetensors.torch import save_file

from rdid_mm.engine.checkpoint import CheckpointError
from rdid_mm.evaluation.keypoint_rcnn import (build_keypoint_rcnn, detector_cfg_with_defaults,
                                              detector_identity)


@pytest.fixture(scope='module')
def random_detector():
    return build_keypoint_rcnn(weights=None, min_size=128, max_size=160)


def test_random_detector_is_torchvisions_keypoint_rcnn(random_detector):
    from torchvision.models.detection import KeypointRCNN
    assert isinstance(random_detector, KeypointRCNN) and not random_detector.training
    assert random_detector.transform.min_size == (128, )
    assert random_detector.transform.max_size == 160
    assert random_detector.roi_heads.keypoint_predictor.kps_score_lowres.out_channels == 17
    twin = build_keypoint_rcnn(weights=None, min_size=128, max_size=160)
    for (name, a), b in zip(random_detector.state_dict().items(), twin.state_dict().values()):
        assert torch.equal(a, b), f'seeded random weights differ at {name}'


def test_compatible_file_loads_and_detects_the_same(tmp_path, random_detector):
    path = tmp_path / 'keypointrcnn.safetensors'
    save_file({k: v.contiguous() for k, v in random_detector.state_dict().items()}, str(path))
    loaded = build_keypoint_rcnn(weights=str(path), min_size=128, max_size=160, bn_eps=1e-5)
    image = torch.rand(3, 120, 150, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = random_detector.backbone(image[None])
        got = loaded.backbone(image[None])
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-4)


def test_missing_checkpoint_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match='detector checkpoint file not found: .*absent.pth'):
        build_keypoint_rcnn(weights=str(tmp_path / 'absent.pth'))


def test_wrong_architecture_is_refused(tmp_path):
    from torchvision.models.detection import fasterrcnn_resnet50_fpn
    boxes_only = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    path = tmp_path / 'fasterrcnn.pth'
    torch.save(boxes_only.state_dict(), path)
    with pytest.raises(CheckpointError) as info:
        build_keypoint_rcnn(weights=str(path))
    message = str(info.value)
    assert 'fasterrcnn.pth: does not fit keypointrcnn_resnet50_fpn' in message
    assert 'roi_heads.keypoint_head' in message and 'key(s) with another shape' in message


def test_full_training_checkpoint_is_refused(tmp_path):
    from mmengine.logging import HistoryBuffer
    path = tmp_path / 'full.pth'
    torch.save({'state_dict': {}, 'message_hub': HistoryBuffer()}, path)
    with pytest.raises(CheckpointError, match='full.pth: refused to unpickle'):
        build_keypoint_rcnn(weights=str(path))


def test_offline_torchvision_weights_say_what_to_do(monkeypatch):
    from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights

    def offline(*args, **kwargs):
        raise urllib.error.URLError('no network')
    monkeypatch.setattr(type(KeypointRCNN_ResNet50_FPN_Weights.COCO_V1), 'get_state_dict', offline)
    with pytest.raises(RuntimeError, match='keypointrcnn_resnet50_fpn_coco-fc266e95.pth'):
        build_keypoint_rcnn(weights='torchvision', min_size=128, max_size=160)


def test_identity_names_weights_by_content(tmp_path):
    path = tmp_path / 'w.safetensors'
    save_file({'x': torch.zeros(2)}, str(path))
    identity = detector_identity(dict(weights=str(path), min_size=320))
    assert identity['weights'].startswith('file:sha256=') and identity['min_size'] == 320
    assert identity['max_size'] == 1333 and identity['box_score_thresh'] == 0.05
    with pytest.raises(TypeError, match='unknown detector settings'):
        detector_cfg_with_defaults(dict(min_sise=3))
