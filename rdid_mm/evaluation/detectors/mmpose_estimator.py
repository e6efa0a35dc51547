"""Any mmpose body-keypoint config as the evaluation's pose model (COCO keypoint AP).

Built with ``mmpose.apis.init_model``; top-down models run with ``inference_topdown`` on person
boxes from the annotation file (``boxes='gt'``, the usual top-down protocol) or from a detector
(any :func:`build_detector` settings, or a ready module); bottom-up models with
``inference_bottomup`` on the whole image. The configs' own test pipelines and ``test_cfg`` (e.g.
flip test) apply.

Each person's score is mmpose's default instance score (``CocoMetric(score_mode='bbox_keypoint')``):
the box score times the mean of the keypoint scores above ``keypoint_score_thr``; boxes from the
annotations score 1. No OKS-NMS is applied: detections are scored as the model returns them, as
for Keypoint R-CNN. A record's box is the person box the model was given (top-down) or its
keypoints' extent (bottom-up models that return no boxes).
"""
import json
import os.path as osp
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch import nn

from rdid_mm.utils.compat import keeping_default_scope

from .base import PERSON_CATEGORY_ID, EvalDetector, empty_prediction
from .openmmlab import (
    config_scope,
    load_model_config,
    load_weights,
    seeded_build,
    without_pretrained_init,
)

GT_BOXES = 'gt'


def gt_person_boxes(ann_file: str) -> Dict[int, np.ndarray]:
    """``{image id: N x 4 xyxy}`` of the non-crowd person annotations of a COCO json."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file} (needed for boxes=gt)')
    with open(ann_file) as f:
        data = json.load(f)
    boxes = {im['id']: [] for im in data['images']}
    for ann in data['annotations']:
        if ann.get('iscrowd') or ann.get('category_id', 1) != PERSON_CATEGORY_ID:
            continue
        x, y, w, h = ann['bbox']
        boxes.setdefault(ann['image_id'], []).append([x, y, x + w, y + h])
    return {k: np.asarray(v, dtype=np.float32).reshape(-1, 4) for k, v in boxes.items()}


def instance_score(box_score: float, keypoint_scores: np.ndarray, thr: float) -> float:
    """mmpose's ``bbox_keypoint`` score: box score x mean keypoint score above ``thr``
    (0 if none is)."""
    valid = keypoint_scores[keypoint_scores > thr]
    return float(box_score * valid.mean()) if len(valid) else 0.0


class MMPoseEstimator(EvalDetector):
    """An mmpose pose model's person keypoints.

    Args:
        config: an mmpose config (path or ``mmpose::...``), top-down or bottom-up.
        weights: a weights file, or None for random weights (seeded by ``seed``).
        boxes: top-down only: ``'gt'`` (the annotation file's person boxes; needs ``ann_file``
            and the images' ids), or a module with the detector interface (``build_detector``
            builds one from detector settings).
        ann_file: the COCO json whose boxes ``boxes='gt'`` uses.
        box_score_thr, max_boxes: which detected boxes a top-down model sees (score at least
            ``box_score_thr``, the ``max_boxes`` best).
        keypoint_score_thr: mmpose's threshold for the instance score (0.2).
    """
    iou_types = ('bbox', 'keypoints')

    def __init__(self, config, weights: Optional[str] = None,
                 boxes: Union[str, nn.Module] = GT_BOXES, ann_file: Optional[str] = None,
                 box_score_thr: float = 0.3, max_boxes: int = 100,
                 keypoint_score_thr: float = 0.2, cfg_options: Optional[dict] = None,
                 device: str = 'cpu', seed: int = 0):
        super().__init__()
        from mmpose.apis import init_model
        cfg = load_model_config(config, cfg_options)
        if config_scope(cfg) != 'mmpose':
            raise ValueError(f'{config}: not an mmpose config (default_scope '
                             f'{cfg.get("default_scope")!r})')
        without_pretrained_init(cfg)
        self.model = seeded_build(
            lambda: init_model(cfg, checkpoint=None, device='cpu', cfg_options={}), seed, 'mmpose')
        load_weights(self.model, weights, f'the model of {config}')
        num_keypoints = self.model.dataset_meta.get('num_keypoints')
        if num_keypoints != 17:
            raise ValueError(f'{config}: a {num_keypoints}-keypoint model; COCO person keypoint '
                             'AP needs the 17 COCO body keypoints')
        self.top_down = type(self.model).__name__ == 'TopdownPoseEstimator'
        self.box_score_thr = box_score_thr
        self.max_boxes = max_boxes
        self.keypoint_score_thr = keypoint_score_thr
        self.box_source = None
        self._gt_boxes = None
        if self.top_down:
            if isinstance(boxes, str) and boxes == GT_BOXES:
                if ann_file is None:
                    raise ValueError("boxes='gt' needs the annotation file (ann_file=...)")
                self._gt_boxes = gt_person_boxes(ann_file)
                self.needs_img_ids = True
            elif isinstance(boxes, nn.Module):
                self.box_detector = boxes
            else:
                raise TypeError(f"boxes={boxes!r}: give 'gt' or a detector module")
            self.box_source = GT_BOXES if self._gt_boxes is not None else 'detector'
        self.model.to(device).eval()

    def _person_boxes(self, image_bgr: np.ndarray, img_id: Optional[int]):
        if self._gt_boxes is not None:
            if img_id not in self._gt_boxes:
                raise ValueError(f'image id {img_id} is not in the annotation file (boxes=gt)')
            boxes = self._gt_boxes[img_id]
            return boxes, np.ones(len(boxes), dtype=np.float32)
        rgb = torch.from_numpy(np.ascontiguousarray(image_bgr[..., ::-1])).permute(2, 0, 1)
        device = next(self.box_detector.parameters()).device
        (pred, ) = self.box_detector([rgb.to(device).float().div(255.0)],
                                     **({'img_ids': [img_id]}
                                        if getattr(self.box_detector, 'needs_img_ids', False)
                                        else {}))
        person = pred['labels'] == PERSON_CATEGORY_ID
        boxes, scores = pred['boxes'][person].cpu().numpy(), pred['scores'][person].cpu().numpy()
        keep = np.argsort(-scores, kind='stable')
        keep = keep[scores[keep] >= self.box_score_thr][:self.max_boxes]
        return boxes[keep].astype(np.float32), scores[keep].astype(np.float32)

    def predict_one(self, image_bgr: np.ndarray, img_id=None) -> Dict[str, torch.Tensor]:
        from mmpose.apis import inference_bottomup, inference_topdown
        if self.top_down:
            boxes, box_scores = self._person_boxes(image_bgr, img_id)
            if not len(boxes):
                return empty_prediction(with_keypoints=True)
            with keeping_default_scope('mmpose'):
                samples = inference_topdown(self.model, image_bgr, boxes, bbox_format='xyxy')
            keypoints = np.concatenate([s.pred_instances.keypoints for s in samples])
            kpt_scores = np.concatenate([s.pred_instances.keypoint_scores for s in samples])
        else:
            with keeping_default_scope('mmpose'):
                (sample, ) = inference_bottomup(self.model, image_bgr)
            keypoints = np.asarray(sample.pred_instances.keypoints)
            kpt_scores = np.asarray(sample.pred_instances.keypoint_scores)
            if not len(keypoints):
                return empty_prediction(with_keypoints=True)
            if 'bboxes' in sample.pred_instances:
                boxes = np.asarray(sample.pred_instances.bboxes, dtype=np.float32)
            else:
                boxes = np.concatenate([keypoints.min(axis=1), keypoints.max(axis=1)], axis=1)
            box_scores = (np.asarray(sample.pred_instances.bbox_scores, dtype=np.float32)
                          if 'bbox_scores' in sample.pred_instances else
                          np.ones(len(keypoints), dtype=np.float32))
        scores = [instance_score(b, k, self.keypoint_score_thr)
                  for b, k in zip(box_scores, kpt_scores)]
        return dict(
            boxes=torch.as_tensor(np.asarray(boxes, dtype=np.float32)).reshape(-1, 4),
            labels=torch.full((len(scores), ), PERSON_CATEGORY_ID, dtype=torch.int64),
            scores=torch.tensor(scores, dtype=torch.float32),
            keypoints=torch.as_tensor(np.concatenate(
                [keypoints, kpt_scores[..., None]], axis=-1), dtype=torch.float32))
