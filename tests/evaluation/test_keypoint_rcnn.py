"""Building the evaluation detector: random, from a file, and the errors for bad files."""
import urllib.error

import pytest
import torch
from safetensors.torch import save_file

from rdid_mm.evaluation.keypoint_rcnn import (
    build_keypoint_rcnn,
    detector_cfg_with_defaults,
    detector_identity,
)
from rdid_mm.utils.weights_file import CheckpointError


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


@pytest.fixture(scope='module')
def trained_with_current_torchvision(tmp_path_factory):
    """A Keypoint R-CNN as torchvision builds one for training today (FrozenBatchNorm2d with its
    default eps), with running variances near 1e-5 so that the eps changes every layer, saved
    with ``torch.save(model.state_dict())``; returns (model, path)."""
    from torchvision.models.detection import KeypointRCNN
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.models.resnet import resnet50
    from torchvision.ops.misc import FrozenBatchNorm2d
    generator = torch.Generator().manual_seed(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        backbone = _resnet_fpn_extractor(resnet50(weights=None, norm_layer=FrozenBatchNorm2d), 3)
        model = KeypointRCNN(backbone, num_classes=2, num_keypoints=17, min_size=128,
                             max_size=160).eval()
    for module in model.modules():
        if isinstance(module, FrozenBatchNorm2d):
            assert module.eps == 1e-5  # torchvision's default
            var = 10**(torch.rand(module.running_var.shape, generator=generator) * 2 - 6)
            module.running_var.copy_(var)
            module.weight.copy_(var.sqrt())  # scale 1 with eps 0, 0.3 to 0.95 with eps 1e-5
    path = tmp_path_factory.mktemp('kprcnn') / 'keypointrcnn_trained.pth'
    torch.save(model.state_dict(), path)
    return model, str(path)


def _backbone(model):
    image = torch.rand(3, 120, 150, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return model.backbone(image[None])


def test_a_file_from_current_torchvision_loads_with_its_eps(trained_with_current_torchvision):
    model, path = trained_with_current_torchvision
    expected = _backbone(model)
    got = _backbone(build_keypoint_rcnn(weights=path, min_size=128, max_size=160))
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-5)
    # the eps matters: COCO_V1's eps 0 (the old default for every file) gives other features
    wrong = _backbone(build_keypoint_rcnn(weights=path, min_size=128, max_size=160, bn_eps=0.0))
    for key in expected:
        assert (wrong[key] - expected[key]).abs().max() > 0.1 * expected[key].abs().max()
    from rdid_mm.evaluation.keypoint_rcnn import weights_file_bn_eps
    assert weights_file_bn_eps(path) == (1e-5, "torchvision's FrozenBatchNorm2d default: the "
                                         'file records no eps and is not the COCO_V1 file')


def test_the_eps_follows_the_record_then_coco_v1_by_content(trained_with_current_torchvision,
                                                            tmp_path, monkeypatch):
    from rdid_mm.evaluation import keypoint_rcnn
    from rdid_mm.utils.provenance import file_sha256
    model, path = trained_with_current_torchvision
    # recorded by save_keypoint_rcnn (safetensors metadata), whatever the file's content
    for eps in (0.0, 1e-5, 1e-3):
        for module in model.modules():
            if hasattr(module, 'eps'):
                module.eps = eps
        recorded = str(tmp_path / f'eps{eps}.safetensors')
        keypoint_rcnn.save_keypoint_rcnn(model, recorded)
        assert keypoint_rcnn.weights_file_bn_eps(recorded) == (
            eps, 'recorded in the file (frozen_bn_eps)')
        assert detector_identity(dict(weights=recorded))['bn_eps'] == eps
    # torchvision's COCO_V1 file is recognised by its sha256, not its name: pretend this one is
    monkeypatch.setattr(keypoint_rcnn, 'COCO_V1_SHA256_PREFIX', file_sha256(path)[:8])
    assert keypoint_rcnn.weights_file_bn_eps(path)[0] == 0.0
    # an explicit eps wins, and enters the identity (the row cache key)
    assert detector_identity(dict(weights=path))['bn_eps'] == 0.0
    assert detector_identity(dict(weights=path, bn_eps=1e-5))['bn_eps'] == 1e-5


def test_detector_bn_eps_option_reaches_the_settings():
    import argparse

    from rdid_mm.reports.cli_options import add_detector_args, detector_from_args
    parser = argparse.ArgumentParser()
    add_detector_args(parser)
    assert 'bn_eps' not in detector_from_args(parser.parse_args([]))
    assert detector_from_args(parser.parse_args(['--detector-bn-eps', '0']))['bn_eps'] == 0.0
