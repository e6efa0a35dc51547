"""``KeypointRCNNMetric``: COCO bbox and keypoint AP of a person detector run on restored images."""
import os.path as osp
from typing import Any, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from torch import nn

from rdid_mm.registry import METRICS
from ..coco_scoring import format_ap_table, load_coco, score_detections
from ..detection import (predictions_to_records, resolve_device, run_detector,
                         to_detector_input, to_uint8_chw)
from ..files import read_rgb, write_json_atomic, write_png_atomic
from ..keypoint_rcnn import build_keypoint_rcnn
from ..stage_timer import StageTimer

# Reference rows read the model's input (or target) image from disk at full resolution.
REFERENCE_PATH_KEYS = {
    'img_gt': ('gt_path', 'img_gt_path'),
    'img_mosaic': ('mosaic_path', 'img_mosaic_path'),
}
DETECTIONS_FILE = 'detections.json'
IMAGES_DIR = 'images'


def sample_path(sample: dict, pred_key: str) -> str:
    """The file a reference row reads for ``pred_key`` ('img_gt' or 'img_mosaic')."""
    for key in REFERENCE_PATH_KEYS[pred_key]:
        if sample.get(key):
            return sample[key]
    raise KeyError(f'data sample of image {sample.get("img_id")} has no '
                   f'{" or ".join(REFERENCE_PATH_KEYS[pred_key])} for pred_key={pred_key!r}')


@METRICS.register_module()
class KeypointRCNNMetric(BaseMetric):
    """Run a COCO Keypoint R-CNN on each image and score its raw detections with COCOeval.

    Reported as ``coco/bbox_AP`` ... ``coco/bbox_ARl`` and ``coco/kpt_AP`` ... ``coco/kpt_ARl``
    (fractions; NaN where COCOeval has no value), with the prefix ``coco`` by default.

    Args:
        ann_file: COCO person-keypoint json of the evaluated split (ids match ``img_id``).
        pred_key: the image to detect on: ``'fake_gt'`` (the model's restored image, RGB 0..255,
            full size) or, for reference rows, ``'img_gt'`` / ``'img_mosaic'``: the files at the
            sample's ``gt_path`` / ``mosaic_path``.
        detector: keyword arguments of :func:`build_keypoint_rcnn` (built on first use), or a
            ready module with torchvision's detection interface.
        device: ``'auto'`` (this process's GPU if any, else CPU), or a torch device string.
        batch_size: images per detector call; 0 runs each dataloader batch in one call.
        out_dir: if set, ``detections.json`` (COCO results) and, for model outputs, the images
            (``images/<stem>.png``) are written there.
    """
    default_prefix = 'coco'

    def __init__(self,
                 ann_file: str,
                 pred_key: str = 'fake_gt',
                 detector: Union[dict, nn.Module, None] = None,
                 device: str = 'auto',
                 batch_size: int = 0,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.ann_file = ann_file
        self.pred_key = pred_key
        self.device = device
        self.batch_size = batch_size
        self.out_dir = out_dir
        if isinstance(detector, nn.Module):
            self.detector_cfg, self._detector = None, detector
        else:
            self.detector_cfg, self._detector = dict(detector or {}), None
        self._coco = None
        self.timer = StageTimer()

    @property
    def coco(self):
        if self._coco is None:
            self._coco = load_coco(self.ann_file)
        return self._coco

    @property
    def detector(self) -> nn.Module:
        if self._detector is None:
            self._detector = build_keypoint_rcnn(**self.detector_cfg)
        self._detector.to(self._torch_device).eval()
        return self._detector

    @property
    def _torch_device(self) -> torch.device:
        return resolve_device(self.device)

    def _image_of(self, sample: dict, img_id: int) -> torch.Tensor:
        if self.pred_key in REFERENCE_PATH_KEYS:
            return to_uint8_chw(read_rgb(sample_path(sample, self.pred_key)))
        if self.pred_key not in sample:
            raise KeyError(f'model output for image {img_id} has no {self.pred_key!r} '
                           f'(keys: {sorted(sample)})')
        return to_uint8_chw(sample[self.pred_key])

    def _check(self, img_id: int, image: torch.Tensor, sample: dict) -> None:
        info = self.coco.imgs.get(img_id)
        where = sample.get('gt_path') or sample.get('mosaic_path') or ''
        if info is None:
            raise ValueError(f'image id {img_id} ({where}) is not in the annotation file '
                             f'{self.ann_file}')
        expected = (info['height'], info['width'])
        if tuple(image.shape[1:]) != expected:
            raise ValueError(
                f'image {img_id} ({info["file_name"]}): {self.pred_key} is '
                f'{tuple(image.shape[1:])} (H, W) but {self.ann_file} says {expected}; the '
                f'detector must see the full original image (ori_shape {sample.get("ori_shape")})')

    def _save_image(self, img_id: int, image: torch.Tensor) -> None:
        stem = osp.splitext(self.coco.imgs[img_id]['file_name'])[0]
        path = osp.join(self.out_dir, IMAGES_DIR, f'{stem}.png')
        write_png_atomic(image.cpu().permute(1, 2, 0).numpy(), path)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        img_ids, images = [], []
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            if 'img_id' not in sample:
                raise KeyError(f'data sample has no img_id (keys: {sorted(sample)})')
            img_id = int(sample['img_id'])
            with self.timer.stage('decode'):
                image = self._image_of(sample, img_id)
            self._check(img_id, image, sample)
            if self.out_dir and self.pred_key not in REFERENCE_PATH_KEYS:
                self._save_image(img_id, image)
            img_ids.append(img_id)
            images.append(image)
        if not images:
            return
        detector = self.detector
        with self.timer.stage('preprocess'):
            inputs = [to_detector_input(image, self._torch_device) for image in images]
        with self.timer.stage('forward'):
            predictions = run_detector(detector, inputs, self.batch_size)
        for img_id, prediction in zip(img_ids, predictions):
            self.results.append(
                dict(img_id=img_id, detections=predictions_to_records(img_id, prediction)))

    def compute_metrics(self, results: list) -> dict:
        seen, detections, duplicates = set(), [], 0
        for result in results:
            if result['img_id'] in seen:
                duplicates += 1
                continue
            seen.add(result['img_id'])
            detections.extend(result['detections'])
        if duplicates:
            print_log(f'{type(self).__name__}: {duplicates} image(s) were processed twice; each '
                      'is scored once', logger='current')
        with self.timer.stage('scoring'):
            stats = score_detections(self.coco, detections, ('bbox', 'keypoints'), seen,
                                     source=f'{self.pred_key} detections')
        if self.out_dir:
            write_json_atomic(detections, osp.join(self.out_dir, DETECTIONS_FILE))
        print_log(format_ap_table(
            stats, title=f'Keypoint R-CNN on {self.pred_key}: {len(seen)} images, '
            f'{len(detections)} detections (AP/AR in %)'), logger='current')
        return stats
