"""``DetectorAPMetric``: COCO bbox and keypoint AP of a person detector run on restored images."""
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from torch import nn

from rdid_mm.layout import restored_path
from rdid_mm.registry import METRICS
from rdid_mm.utils.io import atomic_write_json, read_rgb, write_image

from ..coco_scoring import format_ap_table, load_coco, score_detections
from ..detection import (
    predictions_to_records,
    resolve_device,
    run_detector,
    to_detector_input,
    to_uint8_chw,
)
from ..detectors import build_detector, detector_iou_types
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


def strength_key(strengths: Sequence, strength) -> str:
    """The name part of one strength's results: '' for a single strength, else ``s8/``."""
    return '' if len(strengths) <= 1 or strength is None else f's{int(strength)}/'


def group_by_strength(results: Sequence[dict], what: str) -> 'OrderedDict':
    """``{strength: {img_id: result}}`` (strengths ascending); a repeated (image, strength) is
    kept once and counted in the log (the distributed sampler pads the last batch with repeats)."""
    groups, repeats = {}, 0
    for result in results:
        by_image = groups.setdefault(result.get('strength'), {})
        if result['img_id'] in by_image:
            repeats += 1
            continue
        by_image[result['img_id']] = result
    if repeats:
        print_log(f'{what}: {repeats} (image, strength) result(s) came twice (the distributed '
                  'sampler repeats samples to fill the last batch); each is scored once',
                  logger='current')
    return OrderedDict((s, groups[s]) for s in sorted(groups, key=lambda s: (s is None, s)))


@METRICS.register_module()
class DetectorAPMetric(BaseMetric):
    """Run a person detector on each image and score its raw detections with COCOeval.

    The detector is torchvision's COCO Keypoint R-CNN by default (the paper's), or any mmdet /
    mmpose model (``detector=dict(config=...)``, :mod:`rdid_mm.evaluation.detectors`).

    Reported as ``coco/bbox_AP`` ... ``coco/bbox_ARl`` and ``coco/kpt_AP`` ... ``coco/kpt_ARl``
    (fractions; NaN where COCOeval has no value), with the prefix ``coco`` by default.

    Results are kept per (image, strength): when the evaluated samples carry several strengths,
    each is scored on its own and named with it (``coco/s8/kpt_AP``, ``coco/s16/kpt_AP``), and
    the unqualified names (``coco/kpt_AP``, what ``save_best`` reads) are those of
    ``select_strength`` (default: the smallest), as the log says.

    Args:
        ann_file: COCO person-keypoint json of the evaluated split (ids match ``img_id``).
            Default: the one the evaluated dataset names in its metainfo (``ann_file``), so the
            metric follows the dataloader; for a held-out split that is the split's own json, which
            also replaces an explicit source file (``source_ann_file``, logged); any other explicit
            file is refused.
        pred_key: the image to detect on: ``'fake_gt'`` (the model's restored image, RGB 0..255,
            full size) or, for reference rows, ``'img_gt'`` / ``'img_mosaic'``: the files at the
            sample's ``gt_path`` / ``mosaic_path``.
        detector: the settings of :func:`rdid_mm.evaluation.detectors.build_detector` (Keypoint
            R-CNN's keyword arguments, or an mmdet / mmpose ``config`` and ``weights``; built on
            first use), or a ready module with torchvision's detection interface. Box-only
            detectors (mmdet) are scored for ``bbox`` only.
        device: ``'auto'`` (this process's GPU if any, else CPU), or a torch device string.
        batch_size: images per detector call; 0 runs each dataloader batch in one call.
        out_dir: if set, ``detections.json`` (COCO results; ``detections_s{S}.json`` per
            strength when there are several) and, for model outputs, the images
            (``images/s{S}/<stem>.png``) are written there.
        select_strength: the strength whose results the unqualified names carry.
    """
    default_prefix = 'coco'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 pred_key: str = 'fake_gt',
                 detector: Union[dict, nn.Module, None] = None,
                 device: str = 'auto',
                 batch_size: int = 0,
                 out_dir: Optional[str] = None,
                 select_strength: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.ann_file = ann_file
        self.pred_key = pred_key
        self.device = device
        self.batch_size = batch_size
        self.out_dir = out_dir
        self.select_strength = select_strength
        if isinstance(detector, nn.Module):
            self.detector_cfg, self._detector = None, detector
        else:
            self.detector_cfg, self._detector = dict(detector or {}), None
        self._coco = None
        self.timer = StageTimer()

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Follow the dataset's annotation file; refuse one that disagrees with ours."""
        self._dataset_meta = dataset_meta
        theirs = (dataset_meta or {}).get('ann_file')
        if theirs is None:
            return
        source = dataset_meta.get('source_ann_file') or theirs
        if self.ann_file is None or osp.realpath(self.ann_file) == osp.realpath(source):
            if self.ann_file not in (None, theirs):
                print_log(f'{type(self).__name__}: scoring with {theirs}, the held-out split cut '
                          f'from {self.ann_file}', logger='current')
            if self.ann_file != theirs:
                self.ann_file, self._coco = theirs, None
        elif osp.realpath(self.ann_file) != osp.realpath(theirs):
            raise ValueError(
                f'{type(self).__name__}: ann_file {self.ann_file} is not the annotation file of '
                f'the evaluated dataset ({theirs}); leave the metric\'s ann_file unset so it '
                'follows the dataloader, or point both at the same file')

    @property
    def coco(self):
        if self._coco is None:
            if self.ann_file is None:
                raise ValueError(f'{type(self).__name__}: no ann_file: give one, or evaluate a '
                                 'dataset whose metainfo names it (DeidPairedDataset does)')
            self._coco = load_coco(self.ann_file)
        return self._coco

    @property
    def detector(self) -> nn.Module:
        if self._detector is None:
            self._detector = build_detector(self.detector_cfg, ann_file=self.ann_file)
        self._detector.to(self._torch_device).eval()
        return self._detector

    @property
    def iou_types(self) -> tuple:
        """What the detector's records carry (``detector.iou_types``; Keypoint R-CNN: both)."""
        if self._detector is not None:
            return tuple(getattr(self._detector, 'iou_types', ('bbox', 'keypoints')))
        return detector_iou_types(self.detector_cfg)

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

    def _save_image(self, img_id: int, strength, image: torch.Tensor) -> None:
        folder = osp.join(self.out_dir, IMAGES_DIR)
        if strength is not None:
            folder = osp.join(folder, f's{int(strength)}')
        path = restored_path(folder, self.coco.imgs[img_id]['file_name'])
        write_image(image.cpu().permute(1, 2, 0).numpy(), path)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        img_ids, strengths, images = [], [], []
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            if 'img_id' not in sample:
                raise KeyError(f'data sample has no img_id (keys: {sorted(sample)})')
            img_id = int(sample['img_id'])
            strength = sample.get('strength')
            strength = None if strength is None else int(strength)
            with self.timer.stage('decode'):
                image = self._image_of(sample, img_id)
            self._check(img_id, image, sample)
            if self.out_dir and self.pred_key not in REFERENCE_PATH_KEYS:
                self._save_image(img_id, strength, image)
            img_ids.append(img_id)
            strengths.append(strength)
            images.append(image)
        if not images:
            return
        detector = self.detector
        with self.timer.stage('preprocess'):
            inputs = [to_detector_input(image, self._torch_device) for image in images]
        with self.timer.stage('forward'):
            if getattr(detector, 'needs_img_ids', False):  # top-down pose on the GT boxes
                step = self.batch_size or len(inputs)
                predictions = [p for start in range(0, len(inputs), step) for p in detector(
                    inputs[start:start + step], img_ids[start:start + step])]
            else:
                predictions = run_detector(detector, inputs, self.batch_size)
        for img_id, strength, prediction in zip(img_ids, strengths, predictions):
            self.results.append(dict(img_id=img_id, strength=strength,
                                     detections=predictions_to_records(img_id, prediction)))

    def compute_metrics(self, results: list) -> dict:
        groups = group_by_strength(results, type(self).__name__)
        strengths = list(groups)
        metrics: Dict[str, float] = {}
        per_strength = {}
        for strength, by_image in groups.items():
            detections: List[dict] = [d for r in by_image.values() for d in r['detections']]
            with self.timer.stage('scoring'):
                stats = score_detections(self.coco, detections, self.iou_types,
                                         set(by_image), source=f'{self.pred_key} detections')
            per_strength[strength] = stats
            key = strength_key(strengths, strength)
            metrics.update({f'{key}{name}': value for name, value in stats.items()})
            if self.out_dir:
                name = DETECTIONS_FILE if not key else f'detections_s{int(strength)}.json'
                atomic_write_json(osp.join(self.out_dir, name), detections)
            listed = len(self.coco.imgs)
            at = '' if strength is None else f' at strength {strength}'
            print_log(format_ap_table(
                stats, title=f'Keypoint R-CNN on {self.pred_key}{at}: {len(by_image)} of the '
                f'{listed} images of {self.ann_file}, {len(detections)} detections (AP/AR in %)'),
                logger='current')
            if len(by_image) < listed:
                print_log(f'{type(self).__name__}: scored {len(by_image)} of the {listed} images '
                          f'listed in {self.ann_file}{at} (COCO scores every listed image)',
                          logger='current', level=30)
        if len(strengths) > 1:
            chosen = self.select_strength if self.select_strength is not None else strengths[0]
            if chosen not in per_strength:
                raise ValueError(f'{type(self).__name__}: select_strength={chosen} was not '
                                 f'evaluated (strengths: {strengths})')
            metrics.update(per_strength[chosen])
            print_log(f'{type(self).__name__}: {len(strengths)} strengths scored separately '
                      f'({", ".join(f"s{s}" for s in strengths)}); the unqualified names '
                      f'({self.prefix}/kpt_AP ..., read by save_best) are those of strength '
                      f'{chosen}', logger='current')
        return metrics


# The name this metric had while it ran only Keypoint R-CNN; configs that use it keep working.
METRICS.register_module(name='KeypointRCNNMetric', module=DetectorAPMetric)
