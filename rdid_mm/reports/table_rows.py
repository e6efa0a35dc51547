"""Rows of Table 1 and of the strength sweep: GT, Mosaic at a strength, or a model checkpoint.

Scored images: by default every image of the annotation file (COCO's and torchvision's protocol:
detections on images without a person are false positives); with ``person_images_only`` the
images with at least one person annotation.

Every row is detected with :class:`DetectorAPMetric` (the metric the training loop uses):
GT and Mosaic rows directly on the builder's files; a model row restores with the restore loop of
``tools/restore.py`` as the model was trained (region mode for a model trained on face crops,
else the whole image: :mod:`rdid_mm.models.restore_mode`), its files then detected as the Mosaic
rows' are. Then COCOeval scores the row and the bootstrap resamples its images.

Two caches under ``cache_dir/rows/``, both keyed by everything a row depends on (detector
weights and settings, images, annotation and faces files, config and checkpoint, and the images
per detector call and the device type: torchvision pads each batch to its largest image, and GPU
and CPU arithmetic differ, so both change detections slightly):
``<row>.json`` holds the detections and the face-region quality; ``<row>.scores-*.npz`` the
COCOeval stats and bootstrap samples for one resample count and seed. A rerun with nothing
changed reads only the scores; with another resample count, only the detections.
"""
import hashlib
import io
import json
import os
import os.path as osp
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log

from rdid_mm.evaluation import detectors
from rdid_mm.evaluation.bootstrap import ImageMatches, bootstrap_ap, resample_weights
from rdid_mm.evaluation.coco_scoring import load_coco, run_cocoeval, stats_of
from rdid_mm.evaluation.detection import resolve_device
from rdid_mm.evaluation.metrics.detector_ap_metric import IMAGES_DIR, DetectorAPMetric
from rdid_mm.evaluation.metrics.face_quality_metric import FaceRegionQualityMetric
from rdid_mm.layout import DeidLayout, restored_path
from rdid_mm.models.restore_mode import REGION, default_mode
from rdid_mm.models.restorers import model_restorer
from rdid_mm.restore.generator import init_model
from rdid_mm.restore.loop import restore_deid_folder
from rdid_mm.restore.run_progress import ProgressHook
from rdid_mm.utils.io import atomic_write, atomic_write_json, remove_staging_files
from rdid_mm.utils.progress import ImageProgressBar
from rdid_mm.utils.provenance import file_sha256

ROW_KINDS = ('gt', 'mosaic', 'model')
CACHE_VERSION = 2
IOU_SHORT = {'bbox': 'bbox', 'keypoints': 'kpt'}


@dataclass(frozen=True)
class RowSpec:
    """One row: ``kind`` 'gt', 'mosaic' (at ``strength``) or 'model' (config and checkpoint);
    ``run`` numbers the checkpoints of a model given several (training seeds, see seeds.py)."""
    name: str
    kind: str
    strength: Optional[int] = None
    config: Optional[str] = None
    checkpoint: Optional[str] = None
    paste_to_face_boxes: bool = False
    run: Optional[int] = None

    def __post_init__(self):
        if self.kind not in ROW_KINDS:
            raise ValueError(f'row kind must be one of {ROW_KINDS}, got {self.kind!r}')
        if self.kind != 'gt' and self.strength is None:
            raise ValueError(f'row {self.name!r}: a {self.kind} row needs a strength')
        if self.kind == 'model' and not (self.config and self.checkpoint):
            raise ValueError(f'row {self.name!r}: a model row needs a config and a checkpoint')

    @property
    def display_name(self) -> str:
        """The name, with the run number when the model has several checkpoints."""
        return self.name if self.run is None else f'{self.name} run {self.run}'

    @property
    def label(self) -> str:
        return self.name if self.kind == 'gt' else f'{self.display_name} s{self.strength}'

    @property
    def slug(self) -> str:
        safe = ''.join(c if c.isalnum() or c in '-_' else '-' for c in self.name)
        safe += '' if self.run is None else f'-run{self.run}'
        suffix = '' if self.kind == 'gt' else f'-s{self.strength}'
        paste = '-paste' if self.paste_to_face_boxes else ''
        return f'{self.kind}-{safe}{suffix}{paste}'


@dataclass
class RowResult:
    """A scored row: COCOeval ``stats`` (``bbox_AP`` ...), bootstrap ``samples`` of AP, AP50
    and AP75 (``bbox_AP`` ... ``kpt_AP75``), face-region quality, and the number of images."""
    spec: RowSpec
    face: Optional[Dict[str, float]]
    num_images: int = 0
    stats: Dict[str, float] = field(default_factory=dict)
    samples: Dict[str, np.ndarray] = field(default_factory=dict)
    from_cache: bool = False
    face_models: Dict[str, float] = field(default_factory=dict)  # face_model_columns


def _file_identity(path: str) -> list:
    stat = os.stat(path)
    return [osp.abspath(path), stat.st_size, stat.st_mtime_ns]


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


class RowEvaluator:
    """Detect (or read from the cache), then score rows on one de-identified split.

    Args:
        layout: the builder's output folder.
        detector_cfg: the settings of :func:`rdid_mm.evaluation.detectors.build_detector`
            (Keypoint R-CNN's, or an mmdet / mmpose config and weights).
        cache_dir: where rows are cached; model rows also keep their restored images there.
        device, batch_size: detector placement and images per detector call.
        person_images_only: score only the images with a person annotation.
    """

    def __init__(self, layout: DeidLayout, detector_cfg: dict, cache_dir: str,
                 device: str = 'auto', batch_size: int = 1, person_images_only: bool = False):
        self.layout = layout
        self.detector_cfg = dict(detector_cfg)
        self.cache_dir = cache_dir
        self.device = device
        self.batch_size = batch_size
        self.person_images_only = person_images_only
        self._detector = None
        self._identity = None
        self._coco = None
        self._weights = {}
        if osp.isdir(osp.join(cache_dir, 'rows')):  # what a killed run was writing
            remove_staging_files(osp.join(cache_dir, 'rows'))

    @property
    def coco(self):
        if self._coco is None:
            self._coco = load_coco(self.layout.ann_file)
        return self._coco

    @property
    def img_ids(self) -> List[int]:
        """The scored images: all of the annotation file, or those with a person."""
        if self.person_images_only:
            return sorted(i for i in self.coco.imgs if self.coco.getAnnIds(imgIds=[i]))
        return sorted(self.coco.imgs)

    def image_counts(self) -> Dict[str, int]:
        with_person = sum(1 for i in self.coco.imgs if self.coco.getAnnIds(imgIds=[i]))
        return dict(scored=len(self.img_ids), listed=len(self.coco.imgs),
                    with_person=with_person, without_person=len(self.coco.imgs) - with_person)

    def _detector_module(self):
        if self._detector is None:
            self._detector = detectors.build_detector(self.detector_cfg,
                                                      ann_file=self.layout.ann_file)
        return self._detector

    def _detector_identity(self) -> dict:
        if self._identity is None:
            self._identity = detectors.detector_identity(self.detector_cfg, self.layout.ann_file)
        return self._identity

    def _cache_key(self, spec: RowSpec, samples: List[dict]) -> dict:
        key = dict(version=CACHE_VERSION, row=spec.slug, detector=self._detector_identity(),
                   ann_file=file_sha256(self.layout.ann_file), batch_size=self.batch_size,
                   device=resolve_device(self.device).type)
        if osp.isfile(self.layout.faces_file):
            key['faces'] = file_sha256(self.layout.faces_file)
        path_key = 'gt_path' if spec.kind == 'gt' else 'mosaic_path'
        key['images'] = _digest([_file_identity(s[path_key]) for s in samples])
        if spec.kind == 'model':
            cfg = Config.fromfile(spec.config)
            key.update(config=_digest(cfg.pretty_text), checkpoint=file_sha256(spec.checkpoint),
                       paste_to_face_boxes=spec.paste_to_face_boxes,
                       restore_mode=REGION if spec.paste_to_face_boxes else default_mode(cfg))
        return key

    def _cache_file(self, spec: RowSpec) -> str:
        return osp.join(self.cache_dir, 'rows', f'{spec.slug}.json')

    def _read_cache(self, spec: RowSpec, key: dict):
        path = self._cache_file(spec)
        if not osp.isfile(path):
            return None
        try:
            with open(path, encoding='utf-8') as f:
                cached = json.load(f)
        except (OSError, ValueError) as err:  # torn (a copy, a disk fault): detect again
            print_log(f'{path}: unreadable ({type(err).__name__}); detecting the row again',
                      logger='current', level=30)
            return None
        return cached if isinstance(cached, dict) and cached.get('key') == key else None

    def _scores_file(self, spec: RowSpec, num_samples: int, seed: int) -> str:
        return osp.join(self.cache_dir, 'rows', f'{spec.slug}.scores-n{num_samples}-seed{seed}.npz')

    def _read_scores(self, spec: RowSpec, key: str, num_samples: int, seed: int):
        path = self._scores_file(spec, num_samples, seed)
        if not osp.isfile(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data['key']) != key:
                    return None
                info = json.loads(str(data['info']))
                samples = {name[len('boot_'):]: data[name] for name in data.files
                           if name.startswith('boot_')}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            print_log(f'{path}: unreadable ({type(err).__name__}); scoring the row again',
                      logger='current', level=30)
            return None
        return RowResult(spec, info['face'], info['num_images'], info['stats'], samples,
                         from_cache=True)

    def _write_scores(self, result: RowResult, key: str, num_samples: int, seed: int) -> None:
        buffer = io.BytesIO()
        info = dict(face=result.face, num_images=result.num_images, stats=result.stats)
        np.savez(buffer, key=np.array(key), info=np.array(json.dumps(info)),
                 **{f'boot_{name}': values for name, values in result.samples.items()})
        atomic_write(self._scores_file(result.spec, num_samples, seed), buffer.getvalue())

    def evaluate(self, spec: RowSpec, num_samples: int = 1000, seed: int = 0) -> RowResult:
        """Detections (cached or run), COCOeval stats and ``num_samples`` bootstrap samples."""
        scored = set(self.img_ids)
        samples = [s for s in self.layout.samples(spec.strength) if s['img_id'] in scored]
        if spec.kind != 'mosaic':
            self.layout.check_files(samples, 'gt_path')
        if spec.kind != 'gt':
            self.layout.check_files(samples, 'mosaic_path')
        key = self._cache_key(spec, samples)
        scores_key = _digest(dict(row=key, img_ids=self.img_ids))
        scored = self._read_scores(spec, scores_key, num_samples, seed)
        if scored is not None:
            print_log(f'{spec.label}: scores read from the cache', logger='current')
            return scored
        cached = self._read_cache(spec, key)
        if cached is not None:
            print_log(f'{spec.label}: detections read from {self._cache_file(spec)}',
                      logger='current')
            detections, face = cached['detections'], cached['face']
        else:
            if spec.kind == 'model':
                detections, face = self._run_model(spec, samples)
            else:
                detections, face = self._run_files(spec, samples)
            atomic_write_json(self._cache_file(spec),
                              dict(key=key, detections=detections, face=face))
        result = RowResult(spec, face, len(self.img_ids), from_cache=cached is not None)
        self._score(result, detections, num_samples, seed)
        self._write_scores(result, scores_key, num_samples, seed)
        return result

    def _run_files(self, spec: RowSpec, samples: List[dict]):
        pred_key = 'img_gt' if spec.kind == 'gt' else 'img_mosaic'
        metric = DetectorAPMetric(self.layout.ann_file, pred_key=pred_key,
                                  detector=self._detector_module(), device=self.device)
        face_metric = None
        if spec.kind != 'gt' and osp.isfile(self.layout.faces_file):
            face_metric = FaceRegionQualityMetric(pred_key='img_mosaic', compare_mosaic=False)
        print_log(f'{spec.label}: detecting persons on {len(samples)} images', logger='current')
        progress = ImageProgressBar(len(samples), file=sys.stdout)
        for start in range(0, len(samples), self.batch_size):
            batch = samples[start:start + self.batch_size]
            metric.process(None, batch)
            if face_metric is not None:
                face_metric.process(None, batch)
            progress.update(len(batch))
        progress.finish()
        detections = [d for r in metric.results for d in r['detections']]
        face = face_metric.compute_metrics(face_metric.results) if face_metric else None
        return detections, face

    def _run_model(self, spec: RowSpec, samples: List[dict]):
        """The restore loop restores the row's images as the model was trained (region mode for
        a model trained on face crops, else the whole image; ``paste_to_face_boxes``: region mode
        for every model), then those files are detected like a Mosaic row's."""
        folder = osp.join(self.cache_dir, 'rows', spec.slug, IMAGES_DIR, f's{spec.strength}')
        whole_image = (not spec.paste_to_face_boxes
                       and default_mode(Config.fromfile(spec.config)) != REGION)
        print_log(f'{spec.label}: restoring ({"whole image" if whole_image else "region mode"}) '
                  f'with {spec.checkpoint} ({spec.config})', logger='current')
        model = init_model(spec.config, spec.checkpoint, device=str(resolve_device(self.device)))
        restore_deid_folder(model_restorer(model), self.layout.root, spec.strength, folder,
                            whole_image=whole_image, overwrite=True, hooks=[ProgressHook()])
        del model
        restored = [dict(s, mosaic_path=restored_path(folder, s['file_name'])) for s in samples]
        self.layout.check_files(restored, 'mosaic_path')
        return self._run_files(spec, restored)

    def _resample_weights(self, num_samples: int, seed: int) -> np.ndarray:
        if (num_samples, seed) not in self._weights:
            self._weights[(num_samples, seed)] = resample_weights(len(self.img_ids), num_samples,
                                                                  seed)
        return self._weights[(num_samples, seed)]

    def _score(self, result: RowResult, detections: List[dict], num_samples: int,
               seed: int) -> None:
        """COCOeval stats, then AP/AP50/AP75 under the shared image resamples, for the iou types
        the detector returns (an mmdet detector: boxes only; the table shows n/a for keypoints)."""
        weights = self._resample_weights(num_samples, seed)
        for iou_type in detectors.detector_iou_types(self.detector_cfg):
            coco_eval = run_cocoeval(self.coco, detections, iou_type, self.img_ids)
            result.stats.update(stats_of(coco_eval))
            for name, values in bootstrap_ap(ImageMatches(coco_eval), weights).items():
                result.samples[f'{IOU_SHORT[iou_type]}_{name}'] = values
