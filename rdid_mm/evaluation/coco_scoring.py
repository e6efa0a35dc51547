"""COCO scoring of raw detections with pycocotools' ``COCOeval`` (bbox and keypoints).

The protocol is torchvision's reference evaluation: detections are scored as the detector returns
them (no OKS-NMS, no re-scoring). Box records are scored for ``bbox``; keypoint records are scored
for ``keypoints`` without their box, so pycocotools takes a detection's area from its keypoints,
as it does for torchvision's keypoint results.

Stats that COCOeval cannot define (it reports -1, e.g. small-object AP when there are no small
objects) are returned as NaN, so every defined value is a fraction in [0, 1].
"""
import contextlib
import io
import json
import math
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

BBOX_STAT_NAMES = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs',
                   'ARm', 'ARl')
KPT_STAT_NAMES = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm', 'ARl')
IOU_TYPES = {'bbox': ('bbox', BBOX_STAT_NAMES), 'keypoints': ('kpt', KPT_STAT_NAMES)}
METRIC_PREFIX = 'coco'


def stat_names(iou_type: str) -> List[str]:
    """The names ``score_detections`` uses for one iou type: ``bbox_AP``, ..., ``kpt_ARl``."""
    short, names = IOU_TYPES[iou_type]
    return [f'{short}_{name}' for name in names]


@contextlib.contextmanager
def _quiet():
    """pycocotools prints progress to stdout; keep it out of logs and tables."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def load_coco(ann_file: str) -> COCO:
    """Load a COCO annotation json; errors name the file and what is wrong with it."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    try:
        with open(ann_file) as f:
            dataset = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{ann_file}: not valid json ({err})') from None
    missing = [key for key in ('images', 'annotations', 'categories') if key not in dataset]
    if not isinstance(dataset, dict) or missing:
        raise ValueError(f'{ann_file}: not a COCO annotation file (missing {missing})')
    coco = COCO()
    coco.dataset = dataset
    with _quiet():
        coco.createIndex()
    return coco


def check_detections(coco_gt: COCO, detections: Sequence[dict], source: str) -> None:
    """Raise a ValueError naming ``source`` for records COCOeval would reject or misread."""
    if not isinstance(detections, (list, tuple)):
        raise ValueError(f'{source}: a COCO results file holds a list of detections, '
                         f'not {type(detections).__name__}')
    unknown_images = sorted({d.get('image_id') for d in detections} - set(coco_gt.imgs))
    if unknown_images:
        raise ValueError(f'{source}: {len(unknown_images)} image id(s) are not in the annotation '
                         f'file: {unknown_images[:10]}')
    unknown_cats = sorted({d.get('category_id') for d in detections} - set(coco_gt.cats))
    if unknown_cats:
        raise ValueError(f'{source}: category id(s) not in the annotation file: {unknown_cats}')
    for index, det in enumerate(detections):
        if 'score' not in det:
            raise ValueError(f'{source}: detection {index} has no score')
        if 'bbox' not in det and 'keypoints' not in det:
            raise ValueError(f'{source}: detection {index} has neither bbox nor keypoints')
        if 'bbox' in det and len(det['bbox']) != 4:
            raise ValueError(f'{source}: detection {index}: bbox must be [x, y, w, h]')
        if 'keypoints' in det:
            expected = 3 * len(coco_gt.cats[det['category_id']].get('keypoints', []))
            if len(det['keypoints']) != expected:
                raise ValueError(f'{source}: detection {index}: {len(det["keypoints"])} keypoint '
                                 f'values, expected {expected} (x, y, v per keypoint)')


def _records_for(detections: Iterable[dict], iou_type: str) -> List[dict]:
    field = 'bbox' if iou_type == 'bbox' else 'keypoints'
    return [{
        'image_id': d['image_id'],
        'category_id': d['category_id'],
        field: list(d[field]),
        'score': float(d['score'])
    } for d in detections if field in d]


def _load_results(coco_gt: COCO, records: List[dict]) -> COCO:
    if records:
        with _quiet():
            return coco_gt.loadRes(records)
    empty = COCO()  # pycocotools' loadRes cannot take an empty list: no detections at all
    empty.dataset = {'images': coco_gt.dataset['images'], 'annotations': [],
                     'categories': coco_gt.dataset['categories']}
    with _quiet():
        empty.createIndex()
    return empty


def run_cocoeval(coco_gt: COCO, detections: Sequence[dict], iou_type: str,
                 img_ids: Optional[Iterable[int]] = None) -> COCOeval:
    """Evaluate, accumulate and summarize one iou type; returns the COCOeval object."""
    coco_dt = _load_results(coco_gt, _records_for(detections, iou_type))
    coco_eval = COCOeval(coco_gt, coco_dt, iou_type)
    if img_ids is not None:
        coco_eval.params.imgIds = sorted(int(i) for i in img_ids)
    with _quiet():
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return coco_eval


def stats_of(coco_eval: COCOeval) -> Dict[str, float]:
    """COCOeval's summary stats under their names; undefined (-1) stats become NaN."""
    names = stat_names(coco_eval.params.iouType)
    return {name: (float(v) if v >= 0 else math.nan) for name, v in zip(names, coco_eval.stats)}


def iou_types_present(detections: Sequence[dict]) -> List[str]:
    """``bbox`` if any record has a box, ``keypoints`` if any has keypoints (``bbox`` if none)."""
    types = [t for t, field in (('bbox', 'bbox'), ('keypoints', 'keypoints'))
             if any(field in d for d in detections)]
    return types or ['bbox']


def score_detections(coco_gt: COCO, detections: Sequence[dict],
                     iou_types: Sequence[str] = ('bbox', 'keypoints'),
                     img_ids: Optional[Iterable[int]] = None,
                     source: str = 'detections') -> Dict[str, float]:
    """Score detections; returns ``bbox_AP`` ... ``kpt_ARl`` (no prefix) for ``iou_types``."""
    check_detections(coco_gt, detections, source)
    stats = {}
    for iou_type in iou_types:
        stats.update(stats_of(run_cocoeval(coco_gt, detections, iou_type, img_ids)))
    return stats


def evaluate_coco_results(ann_file: str, results_file: str,
                          img_ids: Optional[Iterable[int]] = None) -> Dict[str, float]:
    """Score a COCO results json against an annotation json.

    Returns ``coco/bbox_AP`` ... ``coco/bbox_ARl`` (COCOeval's 12 box stats) and, when the
    results hold keypoints, ``coco/kpt_AP`` ... ``coco/kpt_ARl`` (its 10 keypoint stats), as
    fractions in [0, 1] (NaN where COCOeval has no value). ``img_ids`` restricts the images
    scored (default: every image of the annotation file, as COCO does).
    """
    coco_gt = load_coco(ann_file)
    if not osp.isfile(results_file):
        raise FileNotFoundError(f'results file not found: {results_file}')
    try:
        with open(results_file) as f:
            detections = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{results_file}: not valid json ({err})') from None
    stats = score_detections(coco_gt, detections, iou_types_present(detections), img_ids,
                             source=results_file)
    return {f'{METRIC_PREFIX}/{name}': value for name, value in stats.items()}


def format_ap_table(stats: Dict[str, float], title: str = '') -> str:
    """A readable two-row table of bbox and keypoint AP/AR (percent) from ``score_detections``."""
    lines = [title] if title else []
    for iou_type, (short, names) in IOU_TYPES.items():
        if f'{short}_AP' not in stats:
            continue
        cells = [f'{name} {100 * stats[f"{short}_{name}"]:5.1f}' for name in names]
        lines.append(f'{iou_type:<9} ' + '  '.join(cells))
    return '\n'.join(lines)

