"""The evaluation detector: torchvision's ``keypointrcnn_resnet50_fpn``.

Weights come from one of three places:

- ``'torchvision'``: torchvision's COCO_V1 entry (box AP 54.6, keypoint AP 65.0 on val2017),
  downloaded into ``$TORCH_HOME`` on a machine with internet access, or read from there;
- a file path: any compatible state_dict (e.g. that same file copied to an offline machine), read
  with :func:`rdid_mm.utils.weights_file.load_state_dict_file` (safetensors or weights-only .pth);
- ``None``: random weights (seeded), for smoke tests of the evaluation path only.

A weights file does not say which FrozenBatchNorm eps it was trained with, and the detections
depend on it: torchvision's COCO_V1 file needs 0.0 (torchvision sets it with ``overwrite_eps``:
it predates pytorch/vision#2933), a Keypoint R-CNN trained with current torchvision needs 1e-5
(``FrozenBatchNorm2d``'s default). :func:`weights_file_bn_eps` decides from what the file is.
"""
import inspect
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

from rdid_mm.utils.provenance import file_sha256
from rdid_mm.utils.weights_file import (
    CheckpointError,
    apply_weights,
    load_state_dict_file,
    save_state_dict_file,
    weights_file_metadata,
)

TORCHVISION_WEIGHTS = 'torchvision'
TORCHVISION_FILE = 'keypointrcnn_resnet50_fpn_coco-fc266e95.pth'
ARCHITECTURE = 'keypointrcnn_resnet50_fpn'
#: the first hex digits of the COCO_V1 file's sha256 (its name carries them; torch.hub checks them)
COCO_V1_SHA256_PREFIX = 'fc266e95'
COCO_V1_BN_EPS = 0.0
#: torchvision's ``FrozenBatchNorm2d`` default, that of any Keypoint R-CNN it trains today
TORCHVISION_BN_EPS = 1e-5
#: safetensors metadata of a weights file: the FrozenBatchNorm eps it was trained with
BN_EPS_METADATA_KEY = 'frozen_bn_eps'


def weights_file_bn_eps(path: str, sha256: Optional[str] = None) -> Tuple[float, str]:
    """The FrozenBatchNorm eps the Keypoint R-CNN weights file ``path`` needs, and why.

    In order: the eps recorded in the file's metadata (:func:`save_keypoint_rcnn`); 0.0 for
    torchvision's COCO_V1 file, recognised by content (any name); else torchvision's default 1e-5.
    """
    recorded = weights_file_metadata(path).get(BN_EPS_METADATA_KEY) if path.endswith(
        '.safetensors') else None
    if recorded is not None:
        return float(recorded), f'recorded in the file ({BN_EPS_METADATA_KEY})'
    if (sha256 or file_sha256(path)).startswith(COCO_V1_SHA256_PREFIX):
        return COCO_V1_BN_EPS, "torchvision's COCO_V1 file (by its sha256)"
    return TORCHVISION_BN_EPS, ("torchvision's FrozenBatchNorm2d default: the file records no eps "
                                'and is not the COCO_V1 file')


def resolved_bn_eps(weights: Optional[str], bn_eps: Optional[float],
                    sha256: Optional[str] = None) -> Tuple[Optional[float], str]:
    """``bn_eps`` if given (explicit), else what the weights file needs; None for
    ``'torchvision'`` (torchvision sets it) and random weights (plain BatchNorm)."""
    if bn_eps is not None:
        return float(bn_eps), 'explicit (bn_eps)'
    if weights is None or weights == TORCHVISION_WEIGHTS:
        return None, ''
    return weights_file_bn_eps(str(weights), sha256)


def save_keypoint_rcnn(model: nn.Module, path: str) -> None:
    """Write a Keypoint R-CNN's weights as safetensors, recording its FrozenBatchNorm eps."""
    from torchvision.ops import misc as misc_nn_ops
    eps = {float(m.eps) for m in model.modules() if isinstance(m, misc_nn_ops.FrozenBatchNorm2d)}
    if len(eps) > 1:
        raise ValueError(f'{path}: the model mixes FrozenBatchNorm eps values {sorted(eps)}')
    metadata = {BN_EPS_METADATA_KEY: repr(eps.pop())} if eps else None
    save_state_dict_file(model.state_dict(), path, metadata=metadata)


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
    # torchvision's detection models use FrozenBatchNorm2d: a file trained with plain BatchNorm
    # carries counters that no frozen layer has, and nothing else
    state = {k: v for k, v in load_state_dict_file(path).items()
             if not k.endswith('num_batches_tracked')}
    apply_weights(model, state, path, what=f'{ARCHITECTURE} (COCO, 2 classes, 17 keypoints)')


def _torchvision_coco_v1(**kwargs) -> nn.Module:
    from torchvision.models.detection import (
        KeypointRCNN_ResNet50_FPN_Weights,
        keypointrcnn_resnet50_fpn,
    )
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
                        box_detections_per_img: int = 100, bn_eps: Optional[float] = None,
                        seed: int = 0) -> nn.Module:
    """Build the detector in eval mode.

    Args:
        weights: ``'torchvision'``, a state_dict file, or None (random, seeded by ``seed``).
        min_size, max_size: the detector's own resize (torchvision's defaults: 800, 1333).
        box_score_thresh, box_detections_per_img: torchvision's defaults (0.05, 100).
        bn_eps: FrozenBatchNorm eps for a weights file; None: what the file needs
            (:func:`weights_file_bn_eps`: recorded, 0.0 for COCO_V1, else 1e-5).
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
            raise CheckpointError(
                f'detector checkpoint file not found: {weights} (expected a {ARCHITECTURE} '
                f"state_dict, e.g. torchvision's {TORCHVISION_FILE})")
        eps, why = resolved_bn_eps(weights, bn_eps)
        print_log(f'{weights}: FrozenBatchNorm eps {eps:g} ({why})', logger='current')
        model = _frozen_bn_architecture(eps, **kwargs)
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
        sha256 = file_sha256(str(weights))
        source = f'file:sha256={sha256}'
        full['bn_eps'] = resolved_bn_eps(weights, full['bn_eps'], sha256)[0]
    return dict(architecture=ARCHITECTURE, weights=source, torchvision=torchvision.__version__,
                **full)
