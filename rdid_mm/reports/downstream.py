"""Training-time utility: train a detector and a pose model on each version of a training split
(original images, Mosaic at a strength, restored folders), then score every one of them on the
ORIGINAL validation images: the table "trained on X, tested on GT".

Each model is trained by MMEngine's Runner (``RDIDRunner``) from an mmdet or mmpose config
(``configs/downstream/``) through the library's own ``CocoDataset``; each version of the split
gets its own annotation file whose ``file_name`` entries point at that version's images. The
trained weights are then run by the same wrappers as Table 1 (``build_detector``) on the
validation images and scored by COCOeval, with the same image resamples for every row so each
row's difference to the model trained on the originals has a paired bootstrap interval.
"""
import csv
import hashlib
import io
import json
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log

from rdid_mm.engine.distributed import prepare_distributed
from rdid_mm.engine.runner import RDIDRunner
from rdid_mm.evaluation.bootstrap import percentile_interval, resample_weights
from rdid_mm.evaluation.coco_scoring import load_coco
from rdid_mm.evaluation.detectors import build_detector, detector_scope
from rdid_mm.evaluation.detectors.scoring import detect_files, score_with_bootstrap
from rdid_mm.layout import DeidLayout
from rdid_mm.utils.compat import (
    albumentations_v2_args,
    ignore_exif_orientation,
    patch_albumentations_for_mmpose,
)
from rdid_mm.utils.io import atomic_write, atomic_write_json
from rdid_mm.utils.provenance import file_sha256
from rdid_mm.utils.weights_file import save_state_dict_file

IMAGE_EXTS = ('.png', '.jpg', '.jpeg')
WEIGHTS_FILE = 'final.safetensors'
DONE_FILE = 'done.json'
DETECTIONS_FILE = 'detections_on_originals.json'
HEADLINE = {'mmdet': ('bbox', 'bbox AP'), 'mmpose': ('kpt', 'kpt AP')}


@dataclass(frozen=True)
class Variant:
    """One version of the training split: a name and the folder holding its images."""
    name: str
    image_dir: str


@dataclass(frozen=True)
class DownstreamModel:
    """A model to train on every variant: a display name and an mmdet or mmpose config."""
    name: str
    config: str


@dataclass
class DownstreamResult:
    variant: Variant
    model: DownstreamModel
    weights: str
    stats: Dict[str, float] = field(default_factory=dict)
    samples: Dict[str, np.ndarray] = field(default_factory=dict)
    num_train_images: int = 0


def builder_variants(train_root: str, strengths: Sequence[int] = (),
                     restored: Sequence[Tuple[str, str]] = ()) -> List[Variant]:
    """GT (``gt/``), Mosaic at each strength (``mosaic/sS``) and the restored folders given."""
    layout = DeidLayout(train_root)
    variants = [Variant('GT', layout.gt_dir)]
    variants += [Variant(f'Mosaic s{s}', layout.mosaic_dir(s)) for s in strengths]
    variants += [Variant(name, folder) for name, folder in restored]
    for variant in variants:
        if not osp.isdir(variant.image_dir):
            raise FileNotFoundError(f'training images of {variant.name!r} not found: '
                                    f'{variant.image_dir}')
    return variants


def variant_annotations(ann_file: str, image_dir: str, out_file: str) -> dict:
    """Write ``ann_file`` with each image's ``file_name`` pointing at its file in ``image_dir``
    (the same name, or the same stem as ``.png``/``.jpg``: the builder's and restore's names).

    Images without a file there are left out with their annotations (counted, logged).
    Returns ``dict(images=kept, missing=left_out)``.
    """
    with open(ann_file) as f:
        data = json.load(f)
    present = {}
    for name in os.listdir(image_dir):
        stem, ext = osp.splitext(name)
        if ext.lower() in IMAGE_EXTS:
            present.setdefault(stem, name)
    images, missing = [], []
    for image in data['images']:
        name = image['file_name']
        if osp.isfile(osp.join(image_dir, name)):
            images.append(image)
        elif osp.splitext(osp.basename(name))[0] in present and '/' not in name:
            images.append(dict(image, file_name=present[osp.splitext(name)[0]]))
        else:
            missing.append(name)
    if not images:
        raise FileNotFoundError(f'{image_dir}: none of the {len(data["images"])} images of '
                                f'{ann_file} is there (e.g. {missing[:3]})')
    if missing:
        print_log(f'{image_dir}: {len(missing)} of {len(data["images"])} images of {ann_file} '
                  f'are missing and left out of training (e.g. {missing[:3]})', logger='current',
                  level=30)
    kept = {im['id'] for im in images}
    out = dict(data, images=images,
               annotations=[a for a in data['annotations'] if a['image_id'] in kept])
    atomic_write_json(out_file, out)
    return dict(images=len(images), missing=len(missing))


def _slug(text: str) -> str:
    return ''.join(c if c.isalnum() or c in '-_' else '-' for c in text)


def _train_weights(runner) -> dict:
    """The weights to evaluate: the EMA model's when the config trains with ``EMAHook`` (as mmdet
    and mmpose evaluate them), else the model's."""
    from mmengine.hooks import EMAHook
    from mmengine.model import is_model_wrapper
    for hook in runner.hooks:
        if isinstance(hook, EMAHook):
            return hook.ema_model.module.state_dict()
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return model.state_dict()


def _training_key(model: DownstreamModel, ann_file: str, variant: Variant,
                  cfg_options: Optional[dict]) -> dict:
    return dict(config=hashlib.sha256(Config.fromfile(model.config).pretty_text.encode())
                .hexdigest(), annotations=file_sha256(ann_file),
                images=osp.abspath(variant.image_dir), cfg_options=cfg_options or {})


def validation_options(cfg, val_ann_file: str, val_img_dir: str) -> dict:
    """``cfg_options`` pointing the config's validation (and test) loop, if it has one, at the
    original validation images: what checkpoint selection during training sees."""
    options = {}
    for loader, evaluator in (('val_dataloader', 'val_evaluator'),
                              ('test_dataloader', 'test_evaluator')):
        if not cfg.get(loader) or not cfg.get(evaluator):
            continue
        options.update({
            f'{loader}.dataset.data_root': '',
            f'{loader}.dataset.ann_file': osp.abspath(val_ann_file),
            f'{loader}.dataset.data_prefix': dict(img=osp.abspath(val_img_dir) + os.sep),
            f'{evaluator}.ann_file': osp.abspath(val_ann_file)})
    return options


def train_on_variant(model: DownstreamModel, variant: Variant, train_ann_file: str,
                     work_dir: str, cfg_options: Optional[dict] = None,
                     val: Optional[Tuple[str, str]] = None) -> Tuple[str, int]:
    """Train ``model`` on ``variant``; returns its weights file and the number of images.

    ``val``: ``(ann_file, img_dir)`` of the original validation images, for the config's own
    validation loop (if it has one). A finished run with the same config, annotations, images
    and options is reused (``done.json``).
    """
    ann_file = osp.join(work_dir, 'train_annotations.json')
    counts = variant_annotations(train_ann_file, variant.image_dir, ann_file)
    # as json stores it (lists), so a rerun compares equal
    key = json.loads(json.dumps(_training_key(model, ann_file, variant,
                                              dict(cfg_options or {}, _val=val))))
    weights, done = osp.join(work_dir, WEIGHTS_FILE), osp.join(work_dir, DONE_FILE)
    if osp.isfile(done) and osp.isfile(weights):
        with open(done) as f:
            if json.load(f).get('key') == key:
                print_log(f'{model.name} on {variant.name}: trained weights reused ({weights})',
                          logger='current')
                return weights, counts['images']
    options = {
        'train_dataloader.dataset.data_root': '',
        'train_dataloader.dataset.ann_file': osp.abspath(ann_file),
        'train_dataloader.dataset.data_prefix': dict(img=osp.abspath(variant.image_dir) + os.sep),
    }
    if val is not None:
        options.update(validation_options(Config.fromfile(model.config), *val))
    options.update(cfg_options or {})
    print_log(f'{model.name}: training on {variant.name} ({counts["images"]} images, '
              f'{variant.image_dir})', logger='current')
    cfg = Config.fromfile(model.config)
    cfg.merge_from_dict(options)
    cfg.work_dir, cfg.launcher = osp.join(work_dir, 'run'), 'none'
    ignore_exif_orientation(cfg)  # COCO's annotations follow the stored pixels
    if cfg.get('default_scope') == 'mmpose':  # RTMPose's pipelines under albumentations 2
        patch_albumentations_for_mmpose()
        albumentations_v2_args(cfg)
    # RDIDRunner directly: the registry would look for it in the config's scope (mmdet / mmpose)
    prepare_distributed(cfg)
    runner = RDIDRunner.from_cfg(cfg)
    runner.train()
    save_state_dict_file(_train_weights(runner), weights)
    atomic_write_json(done, dict(key=key, images=counts['images']))
    return weights, counts['images']


def score_on_originals(model: DownstreamModel, weights: str, val_ann_file: str,
                       val_img_dir: str, resamples: np.ndarray, device: str = 'cpu',
                       detector_options: Optional[dict] = None,
                       detections_file: Optional[str] = None):
    """Run the trained model on the original validation images; stats and bootstrap samples.

    ``detections_file``: where the COCO results are written (to inspect or rescore them).
    """
    coco = load_coco(val_ann_file)
    img_ids = sorted(coco.imgs)
    paths = [osp.join(val_img_dir, coco.imgs[i]['file_name']) for i in img_ids]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'{len(missing)} of the {len(paths)} validation images of '
                                f'{val_ann_file} are missing (e.g. {missing[:3]})')
    cfg = dict(config=model.config, weights=weights, **(detector_options or {}))
    detector = build_detector(cfg, ann_file=val_ann_file, device=device)
    detections = detect_files(detector, img_ids, paths)
    if detections_file:
        atomic_write_json(detections_file, detections)
    return score_with_bootstrap(coco, detections, detector.iou_types, img_ids, resamples)


def train_and_score(train_root: str, val_ann_file: str, val_img_dir: str, out_dir: str,
                    models: Sequence[Tuple[str, str]], strengths: Sequence[int] = (),
                    restored: Sequence[Tuple[str, str]] = (), num_bootstrap: int = 1000,
                    seed: int = 0, device: str = 'cpu', cfg_options: Optional[dict] = None,
                    notes: Sequence[str] = (), level: float = 0.95) -> Dict[str, str]:
    """Train every model on every variant, score each on the original validation images, and
    write ``downstream.md`` / ``downstream.csv`` / ``downstream.json`` under ``out_dir``.

    Args:
        train_root: the builder's output for the training split (``gt/``, ``mosaic/sS``,
            ``annotations/person_keypoints.json``).
        val_ann_file, val_img_dir: the ORIGINAL validation images and their annotations.
        models: ``(name, config)`` pairs: mmdet detection or mmpose pose configs.
        strengths: Mosaic variants to train on; restored: ``(name, folder)`` variants.
        cfg_options: overrides for every training run (e.g. a shorter schedule).
        notes: lines for the table's footer (e.g. that the numbers are a smoke test).
    """
    layout = DeidLayout(train_root)
    variants = builder_variants(train_root, strengths, restored)
    downstream_models = [DownstreamModel(name, config) for name, config in models]
    for model in downstream_models:
        if not osp.isfile(model.config):
            raise FileNotFoundError(f'config file not found: {model.config}')
    num_val = len(load_coco(val_ann_file).imgs)
    resamples = resample_weights(num_val, num_bootstrap, seed)
    results = []
    for model in downstream_models:
        for variant in variants:
            work_dir = osp.join(out_dir, 'runs', _slug(model.name), _slug(variant.name))
            weights, num_images = train_on_variant(model, variant, layout.ann_file, work_dir,
                                                   cfg_options, val=(val_ann_file, val_img_dir))
            stats, samples = score_on_originals(
                model, weights, val_ann_file, val_img_dir, resamples, device,
                detections_file=osp.join(work_dir, DETECTIONS_FILE))
            results.append(DownstreamResult(variant, model, weights, stats, samples, num_images))
    footer = [f'Trained on each version of {train_root}; tested on the original images of '
              f'{val_ann_file} ({num_val} images). Intervals: {100 * level:.0f}% bootstrap over '
              f'validation images ({num_bootstrap} resamples, seed {seed}); Δ: paired difference '
              'to the same model trained on GT.'] + list(notes)
    paths = dict(markdown=osp.join(out_dir, 'downstream.md'),
                 csv=osp.join(out_dir, 'downstream.csv'),
                 json=osp.join(out_dir, 'downstream.json'))
    atomic_write(paths['markdown'], downstream_markdown(results, footer, level))
    atomic_write(paths['csv'], downstream_csv(results, level))
    atomic_write_json(paths['json'], [
        dict(model=r.model.name, config=r.model.config, variant=r.variant.name,
             images=r.variant.image_dir, train_images=r.num_train_images, weights=r.weights,
             stats=_jsonable(r.stats)) for r in results])
    return paths


def _jsonable(stats: Dict[str, float]) -> Dict[str, Optional[float]]:
    return {k: (None if math.isnan(v) else v) for k, v in stats.items()}


def _headline(result: DownstreamResult) -> Tuple[str, str]:
    return HEADLINE[detector_scope(dict(config=result.model.config))]


def _pct(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.1f}'


def _estimate(result: DownstreamResult, column: str, reference: Optional[DownstreamResult],
              level: float):
    value, samples = result.stats[column], result.samples[column]
    if reference is not None:
        value, samples = value - reference.stats[column], samples - reference.samples[column]
    low, high = percentile_interval(samples, level)
    return value, low, high


def _cell(estimate, signed=False) -> str:
    value, low, high = estimate
    if math.isnan(value):
        return 'n/a'
    sign = '+' if signed and value >= 0 else ''
    return f'{sign}{_pct(value)} [{_pct(low)}, {_pct(high)}]'


def _by_model(results: Sequence[DownstreamResult]):
    models, grouped = [], {}
    for result in results:
        if result.model.name not in grouped:
            models.append(result.model.name)
        grouped.setdefault(result.model.name, []).append(result)
    return models, grouped


def downstream_markdown(results: Sequence[DownstreamResult], notes: Sequence[str] = (),
                        level: float = 0.95) -> str:
    """Rows: the training variants; per model, its headline AP on GT and the difference to the
    same model trained on GT (the first variant), both with intervals."""
    models, grouped = _by_model(results)
    variants = [r.variant.name for r in grouped[models[0]]]
    header = ['Trained on']
    for name in models:
        short, label = _headline(grouped[name][0])
        header += [f'{name} {label}', 'AP50', f'Δ {label} vs GT']
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for index, variant in enumerate(variants):
        cells = [variant]
        for name in models:
            result, reference = grouped[name][index], grouped[name][0]
            short, _ = _headline(result)
            cells += [_cell(_estimate(result, f'{short}_AP', None, level)),
                      _pct(result.stats[f'{short}_AP50']),
                      '—' if index == 0 else _cell(
                          _estimate(result, f'{short}_AP', reference, level), signed=True)]
        out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out + [''] + [f'{note}  ' for note in notes]) + '\n'


def downstream_csv(results: Sequence[DownstreamResult], level: float = 0.95) -> str:
    """Every headline number (fractions) with interval bounds and the paired differences."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['model', 'config', 'trained_on', 'train_images', 'metric', 'value', 'low',
                     'high', 'diff_vs_gt', 'diff_low', 'diff_high'])
    models, grouped = _by_model(results)
    for name in models:
        reference = grouped[name][0]
        for result in grouped[name]:
            for column in sorted(result.samples):
                own = _estimate(result, column, None, level)
                diff = _estimate(result, column, reference, level)
                writer.writerow([name, result.model.config, result.variant.name,
                                 result.num_train_images, column, *own, *diff])
    return buffer.getvalue()
