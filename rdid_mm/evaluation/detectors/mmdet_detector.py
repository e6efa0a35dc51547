"""Any mmdet detection config as the evaluation's person detector (COCO bbox AP).

Built with ``mmdet.apis.init_detector`` and run with ``inference_detector`` (the config's own test
pipeline: resize, pad, normalisation, NMS, ``test_cfg``); only the class named ``person`` is kept
and reported as COCO category 1. Works for COCO-80 detectors and person-only ones alike.
"""
from typing import Dict, Optional

import numpy as np
import torch

from rdid_mm.utils.compat import keeping_default_scope

from .base import PERSON_CATEGORY_ID, EvalDetector, empty_prediction
from .openmmlab import (
    config_scope,
    load_model_config,
    load_weights,
    seeded_build,
    without_pretrained_init,
)


def dataset_classes(cfg) -> tuple:
    """The classes the config's detector predicts: its test dataset's ``metainfo`` or COCO's 80."""
    metainfo = cfg.get('test_dataloader', {}).get('dataset', {}).get('metainfo') or {}
    if metainfo.get('classes'):
        return tuple(metainfo['classes'])
    from mmdet.evaluation import get_classes
    return tuple(get_classes('coco'))


class MMDetDetector(EvalDetector):
    """An mmdet detector's person boxes.

    Args:
        config: an mmdet config (path or ``mmdet::...``).
        weights: a weights file, or None for random weights (seeded by ``seed``).
        cfg_options: overrides merged into the config (e.g. a smaller test resize).
        device: where the model runs (moved again by ``.to()``).
    """
    iou_types = ('bbox', )

    def __init__(self, config, weights: Optional[str] = None, cfg_options: Optional[dict] = None,
                 device: str = 'cpu', seed: int = 0):
        super().__init__()
        from mmdet.apis import init_detector
        cfg = load_model_config(config, cfg_options)
        if config_scope(cfg) != 'mmdet':
            raise ValueError(f'{config}: not an mmdet config (default_scope '
                             f'{cfg.get("default_scope")!r})')
        without_pretrained_init(cfg)
        self.classes = dataset_classes(cfg)
        if 'person' not in self.classes:
            raise ValueError(f'{config}: the detector has no class named person '
                             f'(classes: {self.classes[:10]})')
        # cfg_options={} keeps init_detector from editing the config: it was prepared above
        self.model = seeded_build(
            lambda: init_detector(cfg, checkpoint=None, palette='random', device='cpu',
                                  cfg_options={}), seed, 'mmdet')
        load_weights(self.model, weights, f'the model of {config}')
        self.model.dataset_meta = dict(classes=self.classes, palette='random')
        self.person_label = self.classes.index('person')
        self.model.to(device).eval()

    def predict_one(self, image_bgr: np.ndarray, img_id=None) -> Dict[str, torch.Tensor]:
        from mmdet.apis import inference_detector
        # inference_detector builds the test pipeline in the current default scope (mmpose's
        # after a pose model ran): run it in mmdet's, as mmpose's own detector demos do
        with keeping_default_scope('mmdet'):
            result = inference_detector(self.model, image_bgr)
        pred = result.pred_instances
        keep = pred.labels == self.person_label
        if not bool(keep.any()):
            return empty_prediction(with_keypoints=False)
        return dict(boxes=pred.bboxes[keep].float().cpu(),
                    labels=torch.full((int(keep.sum()), ), PERSON_CATEGORY_ID,
                                      dtype=torch.int64),
                    scores=pred.scores[keep].float().cpu())
