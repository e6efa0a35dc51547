"""One entry point for every evaluation detector: torchvision's Keypoint R-CNN (the default and
the paper's protocol), any mmdet detection config, or any mmpose body-keypoint config.

The settings are a plain dict (what ``--detector-config`` / ``--detector-weights`` give, what a
row cache keys on)::

    {}                                         Keypoint R-CNN, torchvision's COCO_V1 weights
    {'weights': None, 'min_size': 512}         Keypoint R-CNN settings (build_keypoint_rcnn)
    {'config': 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', 'weights': 'rtmdet.pth'}
    {'config': 'configs/downstream/rtmpose-t_person.py', 'weights': None, 'boxes': 'gt'}
    {'config': POSE_CFG, 'weights': W, 'boxes': {'config': DET_CFG, 'weights': DW}}

mmdet and mmpose are imported only when such a detector is built.
"""
import hashlib
import importlib
import os.path as osp
from typing import Optional

from rdid_mm.utils.provenance import file_sha256

from ..keypoint_rcnn import build_keypoint_rcnn, detector_cfg_with_defaults, resolved_bn_eps
from ..keypoint_rcnn import detector_identity as keypoint_rcnn_identity
from .mmdet_detector import MMDetDetector
from .mmpose_estimator import MMPoseEstimator
from .openmmlab import config_scope, load_model_config

#: settings of the OpenMMLab wrappers (the rest of a dict goes to build_keypoint_rcnn)
OPENMMLAB_KEYS = ('config', 'weights', 'cfg_options', 'seed', 'boxes', 'box_score_thr',
                  'max_boxes', 'keypoint_score_thr')
NONE_WEIGHTS = ('none', 'random')


def normalise_weights(weights):
    """``'none'`` (any case) and None both mean random weights."""
    if weights is None or (isinstance(weights, str) and weights.lower() in NONE_WEIGHTS):
        return None
    return weights


def openmmlab_weights(cfg: dict):
    """The weights file of an mmdet / mmpose detector, or None (random); refuses Keypoint
    R-CNN's ``'torchvision'`` (the tools' default of ``--detector-weights``)."""
    weights = normalise_weights(cfg.get('weights'))
    if weights == 'torchvision':
        raise ValueError(f"detector weights 'torchvision' are Keypoint R-CNN's; for "
                         f"{cfg['config']} give a weights file or 'none' (random)")
    return weights


def is_openmmlab(cfg: Optional[dict]) -> bool:
    return bool(cfg and cfg.get('config'))


def detector_scope(cfg: Optional[dict]) -> str:
    """'torchvision', 'mmdet' or 'mmpose'."""
    if not is_openmmlab(cfg):
        return 'torchvision'
    return config_scope(load_model_config(cfg['config'], cfg.get('cfg_options')))


def detector_iou_types(cfg: Optional[dict]) -> tuple:
    """The COCO iou types the detector's records carry, without building it: mmdet configs give
    boxes only; Keypoint R-CNN and mmpose models boxes and keypoints."""
    return ('bbox', ) if detector_scope(cfg) == 'mmdet' else ('bbox', 'keypoints')


def _check_keys(cfg: dict, scope: str) -> None:
    allowed = set(OPENMMLAB_KEYS)
    if scope == 'mmdet':
        allowed -= {'boxes', 'box_score_thr', 'max_boxes', 'keypoint_score_thr'}
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise TypeError(f'unknown settings {unknown} for an {scope} detector; known: '
                        f'{sorted(allowed)}')


def build_detector(cfg: Optional[dict] = None, ann_file: Optional[str] = None,
                   device: str = 'cpu'):
    """Build the detector ``cfg`` describes, in eval mode (see the module docstring).

    ``ann_file`` is the annotation json of the split being scored: top-down pose models with
    ``boxes='gt'`` (their default) take their person boxes from it.
    """
    cfg = dict(cfg or {})
    if not is_openmmlab(cfg):
        cfg['weights'] = normalise_weights(cfg.get('weights', 'torchvision'))
        return build_keypoint_rcnn(**cfg).to(device)
    scope = detector_scope(cfg)
    _check_keys(cfg, scope)
    cfg['weights'] = openmmlab_weights(cfg)
    if scope == 'mmdet':
        return MMDetDetector(device=device, **cfg)
    if isinstance(cfg.get('boxes'), dict):  # a top-down model's box detector, built here
        cfg['boxes'] = _box_detector(cfg, ann_file)
    return MMPoseEstimator(ann_file=ann_file, device=device, **cfg)


def _box_detector(cfg: dict, ann_file: Optional[str]):
    """The detector whose person boxes a top-down pose model reads; a model that is not top-down
    reads none (the pose model's default 'gt' is then never used)."""
    model_type = load_model_config(cfg['config'], cfg.get('cfg_options')).model.get('type')
    if model_type != 'TopdownPoseEstimator':
        return 'gt'
    return build_detector(dict(cfg['boxes']), ann_file=ann_file)


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def detector_identity(cfg: Optional[dict] = None, ann_file: Optional[str] = None) -> dict:
    """What determines the detections (for caches and table footers): for OpenMMLab models the
    config's full text, the weights by content, the settings, the box source, the versions."""
    cfg = dict(cfg or {})
    if not is_openmmlab(cfg):
        cfg['weights'] = normalise_weights(cfg.get('weights', 'torchvision'))
        return keypoint_rcnn_identity(cfg)
    model_cfg = load_model_config(cfg['config'], cfg.get('cfg_options'))
    scope = model_cfg.get('default_scope')
    weights = openmmlab_weights(cfg)
    identity = dict(
        architecture=f'{scope}:{model_cfg.model.get("type")}',
        config=str(cfg['config']), config_sha256=_text_digest(model_cfg.pretty_text),
        weights='random' if weights is None else f'file:sha256={file_sha256(str(weights))}',
        seed=cfg.get('seed', 0))
    identity[scope] = importlib.import_module(scope).__version__
    if scope == 'mmpose':
        boxes = cfg.get('boxes', 'gt')
        if isinstance(boxes, dict):
            identity['boxes'] = detector_identity(boxes, ann_file)
        else:
            identity['boxes'] = boxes
            if boxes == 'gt' and ann_file and osp.isfile(ann_file):
                identity['boxes_ann_file'] = file_sha256(ann_file)
        for key in ('box_score_thr', 'max_boxes', 'keypoint_score_thr'):
            if key in cfg:
                identity[key] = cfg[key]
    return identity


def describe_detector(cfg: Optional[dict] = None) -> str:
    """One line for a table footer: which model scored the rows, and where its boxes came from."""
    cfg = dict(cfg or {})
    if not is_openmmlab(cfg):
        full = detector_cfg_with_defaults(
            dict(cfg, weights=normalise_weights(cfg.get('weights', 'torchvision'))))
        weights = full['weights']
        if weights == 'torchvision':
            source = "torchvision's COCO_V1 weights"
        elif weights is None:
            source = 'random weights (smoke test)'
        elif osp.isfile(str(weights)):
            eps, why = resolved_bn_eps(weights, full['bn_eps'])
            source = f'weights {weights} (FrozenBatchNorm eps {eps:g}: {why})'
        else:
            source = f'weights {weights}'
        return f"Detector: torchvision keypointrcnn_resnet50_fpn, {source}."
    weights = normalise_weights(cfg.get('weights'))
    source = 'random weights (smoke test)' if weights is None else f'weights {weights}'
    scope = detector_scope(cfg)
    line = f"Detector: {scope} config {cfg['config']}, {source}"
    if scope == 'mmpose':
        model_type = load_model_config(cfg['config'], cfg.get('cfg_options')).model.get('type')
        boxes = cfg.get('boxes', 'gt')
        if model_type != 'TopdownPoseEstimator':
            line += f'; {model_type} on whole images'
        elif isinstance(boxes, dict):
            line += (f"; top-down person boxes from {describe_detector(boxes)[len('Detector: '):]}"
                     .rstrip('.'))
        else:
            line += '; top-down on the ground-truth person boxes (box AP is 1 by construction)'
    return line + '.'
