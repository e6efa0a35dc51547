"""The commands behind ``tools/eval_table.py`` (Table 1) and ``tools/strength_sweep.py``."""
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from rdid_mm.engine.checkpoint import weights_provenance
from rdid_mm.engine.data_settings import paired_datasets
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.evaluation.detectors import describe_detector
from rdid_mm.evaluation.detectors.build import is_openmmlab
from rdid_mm.evaluation.keypoint_rcnn import TORCHVISION_WEIGHTS
from rdid_mm.layout import DeidLayout
from rdid_mm.utils.io import atomic_write, atomic_write_json

from .face_model_columns import add_face_model_columns
from .seeds import SEEDS_NOTE, number_runs
from .strength_plot import plot_ap_vs_strength
from .table_format import (
    sweep_csv,
    sweep_markdown,
    sweep_series,
    table1_csv,
    table1_markdown,
    table_lines,
)
from .table_provenance import provenance_note, table_provenance
from .table_rows import RowEvaluator, RowResult, RowSpec

ModelArg = Tuple[str, str, str]  # (name, config, checkpoint)


def trained_strengths(config: str) -> List[int]:
    """The pixelation strength(s) a model config trains on: each training dataset's own, else
    the config's top-level ``strengths`` (as the training loop fills them)."""
    cfg = Config.fromfile(config)
    found = []
    train_dataset = cfg.get('train_dataloader', {}).get('dataset')
    for _, dataset in paired_datasets(train_dataset, 'train_dataloader.dataset'):
        value = dataset.get('strengths', cfg.get('strengths'))
        for strength in [value] if isinstance(value, int) else (value or []):
            if int(strength) not in found:
                found.append(int(strength))
    if not found:
        raise ValueError(f'{config}: train_dataloader.dataset has no strengths; evaluate this '
                         'model at every strength instead (--model-strengths all)')
    return found


def _model_specs(models: Sequence[ModelArg], strengths: Sequence[int], which: str,
                 paste: bool) -> List[RowSpec]:
    """The rows of each model at its strengths; a name given several times is several runs."""
    specs = []
    for name, config, checkpoint, run in number_runs(models):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        checkpoint = resolve_weights_path(checkpoint)
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
        at = list(strengths) if which == 'all' else [
            s for s in trained_strengths(config) if s in strengths]
        if not at:
            raise ValueError(f'model {name}: trained at {trained_strengths(config)}, none of the '
                             f'evaluated strengths {list(strengths)}')
        specs += [RowSpec(name, 'model', s, config, checkpoint, paste, run) for s in at]
    return specs


def _resolve_strengths(layout: DeidLayout, strengths: Optional[Sequence[int]]) -> List[int]:
    available = layout.strengths()
    chosen = sorted(int(s) for s in strengths) if strengths else available
    absent = [s for s in chosen if s not in available]
    if absent or not chosen:
        raise ValueError(f'{layout.root}: no mosaic folder for strength(s) {absent or chosen} '
                         f'(found: {available})')
    return chosen


def _evaluate(specs: Sequence[RowSpec], layout: DeidLayout, detector: dict, cache_dir: str,
              device: str, batch_size: int, num_bootstrap: int, seed: int,
              person_images_only: bool = False):
    evaluator = RowEvaluator(layout, detector, cache_dir, device=device, batch_size=batch_size,
                             person_images_only=person_images_only)
    start = time.perf_counter()
    results = [evaluator.evaluate(spec, num_bootstrap, seed) for spec in specs]
    cached = sum(r.from_cache for r in results)
    print_log(f'{len(results)} rows ({cached} from the cache) in '
              f'{time.perf_counter() - start:.1f} s', logger='current')
    return results, evaluator.image_counts()


def _images_note(counts: dict, person_images_only: bool, ann_file: str) -> str:
    if person_images_only:
        return (f'Images: the {counts["scored"]} images with a person annotation (--person-images-'
                f'only; {counts["without_person"]} of the {counts["listed"]} images of '
                f'{ann_file} left out).')
    return (f'Images: every image of {ann_file}: {counts["scored"]} ({counts["with_person"]} with '
            f'a person annotation, {counts["without_person"]} without, where every detection is a '
            'false positive), as COCO and torchvision score val2017.')


MODEL_ROWS_NOTE = (
    'Model rows: a model trained on face crops restores in region mode, as tools/restore.py does '
    '(each faces.json box with 50% context at native resolution, pasted back; the rest is the '
    'mosaic); a model trained on whole images restores the whole image at full resolution '
    "(reflect padding to the network's divisor, cropped back); --paste-to-face-boxes: region mode "
    "for every model. Generators run in eval mode; for "
    "Pix2Pix this differs from mmagic's test, which runs in train mode (dropout and batch "
    'statistics).')


def _notes(results: Sequence[RowResult], detector: dict, num_bootstrap: int, level: float,
           seed: int, table1: bool = True, images_note: str = '') -> List[str]:
    images = results[0].num_images
    weights = detector.get('weights', TORCHVISION_WEIGHTS)
    if weights is None:
        weights = 'none (random: a smoke test, not a measurement)'
    if is_openmmlab(detector):
        notes = [f'AP in %, pycocotools COCOeval on the raw detections ({images} images; n/a: '
                 'an iou type the detector does not return).', describe_detector(detector)]
    else:
        notes = [
            f'AP in %, pycocotools COCOeval on raw Keypoint R-CNN detections ({images} images; '
            f'detector weights: {weights}).',
        ]
    if images_note:
        notes.append(images_note)
    if any(r.spec.kind == 'model' for r in results):
        notes.append(MODEL_ROWS_NOTE)
    notes += [
        f'[low, high]: {100 * level:.0f}% bootstrap interval over images ({num_bootstrap} '
        f'resamples, seed {seed}).',
    ]
    if table1 and any(r.spec.run is not None for r in results):
        notes.append(SEEDS_NOTE)
    if table1:
        notes += [
            'Δ: difference to the Mosaic row of the same strength, with a paired interval (the '
            'same image resamples for both rows).',
            'face PSNR/SSIM: inside the face boxes of faces.json, against the original image.',
        ]
    return notes


def make_table1(deid_root: str, out_dir: str, strengths: Optional[Sequence[int]] = None,
                models: Sequence[ModelArg] = (), model_strengths: str = 'trained',
                detector: Optional[dict] = None, gt_dir: Optional[str] = None,
                ann_file: Optional[str] = None, cache_dir: Optional[str] = None,
                device: str = 'auto', batch_size: int = 1, num_bootstrap: int = 1000,
                seed: int = 0, level: float = 0.95, paste_to_face_boxes: bool = False,
                person_images_only: bool = False, face_models: bool = True) -> Dict[str, str]:
    """Table 1: GT, Mosaic per strength, each model; markdown, CSV and the AP/strength plot.

    Scores every image of the annotation file, or with ``person_images_only`` those with a
    person annotation; the footer says which, and how many. With ``face_models`` (and the
    models installed) every row also gets CenterFace recall, landmark error and identity top-1.

    Returns the paths written: ``markdown``, ``csv``, ``plot``.
    """
    detector = dict(detector if detector is not None else {'weights': TORCHVISION_WEIGHTS})
    layout = DeidLayout.existing(deid_root, gt_dir=gt_dir, ann_file=ann_file)
    strengths = _resolve_strengths(layout, strengths)
    specs = [RowSpec('GT', 'gt')] + [RowSpec('Mosaic', 'mosaic', s) for s in strengths]
    specs += _model_specs(models, strengths, model_strengths, paste_to_face_boxes)
    cache_dir = cache_dir or osp.join(out_dir, 'cache')
    results, counts = _evaluate(specs, layout, detector, cache_dir,
                                device, batch_size, num_bootstrap, seed, person_images_only)
    notes = _notes(results, detector, num_bootstrap, level, seed,
                   images_note=_images_note(counts, person_images_only, layout.ann_file))
    if face_models:
        add_face_model_columns(results, layout, cache_dir, notes)
    provenance = table_provenance(layout.ann_file, seed)
    notes.append(provenance_note(provenance))
    paths = {key: osp.join(out_dir, name) for key, name in (
        ('markdown', 'table1.md'), ('csv', 'table1.csv'), ('plot', 'ap_vs_strength.png'),
        ('provenance', 'provenance.json'))}
    lines = table_lines(results, level)
    markdown = table1_markdown(lines, notes)
    atomic_write(paths['markdown'], markdown)
    atomic_write(paths['csv'], table1_csv(lines))
    atomic_write_json(paths['provenance'], dict(provenance, rows=[
        dict(row=r.spec.label, config=r.spec.config, checkpoint=r.spec.checkpoint,
             weights=weights_provenance(r.spec.checkpoint) if r.spec.checkpoint else {})
        for r in results]), indent=1)
    sweep_strengths, series = sweep_series(results, level)
    plot_ap_vs_strength(sweep_strengths, series, paths['plot'], title='Table 1 rows')
    print_log('\n' + markdown, logger='current')
    return paths


def make_strength_sweep(deid_root: str, out_dir: str, strengths: Optional[Sequence[int]] = None,
                        models: Sequence[ModelArg] = (), detector: Optional[dict] = None,
                        gt_dir: Optional[str] = None, ann_file: Optional[str] = None,
                        cache_dir: Optional[str] = None, device: str = 'auto',
                        batch_size: int = 1, num_bootstrap: int = 1000, seed: int = 0,
                        level: float = 0.95) -> Dict[str, str]:
    """AP against strength for GT, Mosaic and every model at every strength: table and plot."""
    detector = dict(detector if detector is not None else {'weights': TORCHVISION_WEIGHTS})
    layout = DeidLayout.existing(deid_root, gt_dir=gt_dir, ann_file=ann_file)
    strengths = _resolve_strengths(layout, strengths)
    specs = [RowSpec('GT', 'gt')] + [RowSpec('Mosaic', 'mosaic', s) for s in strengths]
    specs += _model_specs(models, strengths, 'all', False)
    results, counts = _evaluate(specs, layout, detector, cache_dir or osp.join(out_dir, 'cache'),
                                device, batch_size, num_bootstrap, seed)
    sweep_strengths, series = sweep_series(results, level)
    notes = _notes(results, detector, num_bootstrap, level, seed, table1=False,
                   images_note=_images_note(counts, False, layout.ann_file))
    notes.append(provenance_note(table_provenance(layout.ann_file, seed)))
    paths = {key: osp.join(out_dir, name) for key, name in (
        ('markdown', 'sweep.md'), ('csv', 'sweep.csv'), ('plot', 'sweep.png'))}
    markdown = sweep_markdown(sweep_strengths, series, notes)
    atomic_write(paths['markdown'], markdown)
    atomic_write(paths['csv'], sweep_csv(series))
    plot_ap_vs_strength(sweep_strengths, series, paths['plot'], title='AP against strength')
    print_log('\n' + markdown, logger='current')
    return paths
