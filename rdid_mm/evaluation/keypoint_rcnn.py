"""The evaluation detector: torchvision's ``keypointrcnn_resnet50_fpn``.

Weights come from one of three places:

- ``'torchvision'``: torchvision's COCO_V1 entry (box AP 54.6, keypoint AP 65.0 on val2017),
  downloaded into ``$TORCH_HOME`` on a machine with internet access, or read from there;
- a file path: any compatible state_dict (e.g. that same file copied to an offline machine), read
  with :func:`rdid_mm.engine.checkpoint.load_state_dict_file` (safetensors or weights-only .pth);
- ``None``: random weights (seeded), for smoke tests of the evaluation path only.
"""
import inspect
import os.path as osp
from typing import Optional

import torch
from torch import nn

from rdid_mm.utils.provenance import file_sha256

TORCHVISION_WEIGHTS = 'torchvision'
TORCHVISION_FILE = 'keypointrcnn_resnet50_fpn_coco-fc266e95.pth'
ARCHITECTURE = 'keypointrcnn_resnet50_fpn'


def _frozen_bn_architecture(bn_eps: float, **kwargs) -> nn.Module:
    """The architecture torchvision builds when it loads pretrained weights (FrozenBatchNorm2d)."""
    from torchvision.models.detection import KeypointRCNN
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.models.resnet import resnet50
    from torchvision.ops import misc as misc_nn_ops

    backbone = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(backbone, 3)
    model = KeypointRCNN(backbone, num_classes=2, num_keypoints=17, **kwargs)
    for module in model.modules():
        if isinstance(module, misc_nn_ops.FrozenBatchNorm2d):
            module.eps = bn_eps
    return model


def _load_file(model: nn.Module, path: str) -> None:
    from rdid_mm.engine.checkpoint import load_state_dict_file
    from rdid_mm.engine.weights import apply_weights
    # torchvision's detection models use FrozenBatchNorm2d: a file trained with plain BatchNorm
    # carries counters that no frozen layer has, and nothing else
    state = {k: v for k, v in load_state_dict_file(path).items()
             if not k.endswith('num_batches_tracked')}
    apply_weights(model, state, path, what=f'{ARCHITECTURE} (COCO, 2 classes, 17 keypoints)')


def _torchvision_coco_v1(**kwargs) -> nn.Module:
    from torchvision.models.detection import (KeypointRCNN_ResNet50_FPN_Weights,
                                              keypointrcnn_resnet50_fpn)
    try:
        return keypointrcnn_resnet50_fpn(
            weights=KeypointRCNN_ResNet50_FPN_Weights.COCO_V1, weights_backbone=None, **kwargs)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        raise RuntimeError(
            f"could not get torchvision's COCO_V1 {ARCHITECTURE} weights ({err}). On a machine "
            f'without internet access, download {TORCHVISION_FILE} from '
            f'{KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.url} elsewhere and pass its path as the '
            f'detector weights (or place it in $TORCH_HOME/hub/checkpoints/).') from err


def build_keypoint_rcnn(weights: Optional[str] = TORCHVISION_WEIGHTS, min_size: int = 800,
                        max_size: int = 1333, box_score_thresh: float = 0.05,
                        box_detections_per_img: int = 100, bn_eps: float = 0.0,
                        seed: int = 0) -> nn.Module:
    """Build the detector in eval mode.

    Args:
        weights: ``'torchvision'``, a state_dict file, or None (random, seeded by ``seed``).
        min_size, max_size: the detector's own resize (torchvision's defaults: 800, 1333).
        box_score_thresh, box_detections_per_img: torchvision's defaults (0.05, 100).
        bn_eps: FrozenBatchNorm eps for weights files; torchvision's COCO_V1 weights use 0.0.
    """
    kwargs = dict(min_size=min_size, max_size=max_size, box_score_thresh=box_score_thresh,
                  box_detections_per_img=box_detections_per_img)
    if weights == TORCHVISION_WEIGHTS:
        model = _torchvision_coco_v1(**kwargs)
    elif weights is None:
        from torchvision.models.detection import keypointrcnn_resnet50_fpn
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, **kwargs)
    else:
        weights = str(weights)
        if not osp.isfile(weights):
            from rdid_mm.engine.checkpoint import CheckpointError
            raise CheckpointError(
                f'detector checkpoint file not found: {weights} (expected a {ARCHITECTURE} '
                f"state_dict, e.g. torchvision's {TORCHVISION_FILE})")
        model = _frozen_bn_architecture(bn_eps, **kwargs)
        _load_file(model, weights)
    return model.eval()


def detector_cfg_with_defaults(cfg: Optional[dict] = None) -> dict:
    """``cfg`` (keyword arguments of :func:`build_keypoint_rcnn`) with every default filled in."""
    params = inspect.signature(build_keypoint_rcnn).parameters
    full = {name: param.default for name, param in params.items()}
    unknown = sorted(set(cfg or {}) - set(full))
    if unknown:
        raise TypeError(f'unknown detector settings {unknown}; known: {sorted(full)}')
    full.update(cfg or {})
    return full


def detector_identity(cfg: Optional[dict] = None) -> dict:
    """What determines the detections: the weights (by content for files) and the settings."""
    import torchvision
    full = detector_cfg_with_defaults(cfg)
    weights = full.pop('weights')
    if weights is None:
        source = 'random'
    elif weights == TORCHVISION_WEIGHTS:
        source = 'torchvision:COCO_V1'
    else:
        source = f'file:sha256={file_sha256(str(weights))}'
    return dict(architecture=ARCHITECTURE, weights=source, torchvision=torchvision.__version__,
                **full)
