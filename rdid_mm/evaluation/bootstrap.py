"""Bootstrap over images for COCO AP, AP50 and AP75, from one ``COCOeval.evaluate()``.

COCOeval matches detections to ground truth per image; AP is then accumulated over all images.
Resampling images with replacement therefore only changes how often each image's matches count:
:class:`ImageMatches` keeps the matches of every image once, sorted by score as
``COCOeval.accumulate`` sorts them, and :meth:`ImageMatches.ap` recomputes AP for any per-image
weights (how often each image was drawn). With all weights 1 it reproduces COCOeval's AP,
AP50 and AP75 exactly. Resampling the same images for every row gives paired differences.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np
from pycocotools.cocoeval import COCOeval

AP_NAMES = ('AP', 'AP50', 'AP75')


@dataclass
class _CategoryMatches:
    image_index: np.ndarray  # (D,) image of each detection, detections sorted by score
    true_pos: np.ndarray  # (T, D) matched and not ignored
    false_pos: np.ndarray  # (T, D) unmatched and not ignored
    gt_per_image: np.ndarray  # (N,) ground truths that count, per image


class ImageMatches:
    """The per-image matches of an evaluated COCOeval (area 'all', largest maxDets)."""

    def __init__(self, coco_eval: COCOeval):
        if not coco_eval.evalImgs:
            raise ValueError('ImageMatches needs a COCOeval after evaluate()')
        params = coco_eval.params
        self.img_ids: List[int] = list(params.imgIds)
        self.iou_thrs = np.asarray(params.iouThrs)
        self.rec_thrs = np.asarray(params.recThrs)
        self._categories = self._collect(coco_eval)

    def _collect(self, coco_eval: COCOeval) -> List[_CategoryMatches]:
        params = coco_eval.params
        cat_ids = params.catIds if params.useCats else [-1]
        num_areas, num_imgs = len(params.areaRng), len(params.imgIds)
        area_all = params.areaRngLbl.index('all')
        max_det = params.maxDets[-1]
        categories = []
        for k in range(len(cat_ids)):
            offset = k * num_areas * num_imgs + area_all * num_imgs
            scores, matched, ignored, image_index = [], [], [], []
            gt_per_image = np.zeros(num_imgs, dtype=np.int64)
            for i in range(num_imgs):
                e = coco_eval.evalImgs[offset + i]
                if e is None:
                    continue
                det_scores = np.asarray(e['dtScores'][:max_det])
                scores.append(det_scores)
                matched.append(e['dtMatches'][:, :max_det])
                ignored.append(e['dtIgnore'][:, :max_det])
                image_index.append(np.full(len(det_scores), i, dtype=np.int64))
                gt_per_image[i] = np.count_nonzero(np.asarray(e['gtIgnore']) == 0)
            if not scores:
                continue
            order = np.argsort(-np.concatenate(scores), kind='mergesort')
            matched = np.concatenate(matched, axis=1)[:, order].astype(bool)
            ignored = np.concatenate(ignored, axis=1)[:, order].astype(bool)
            categories.append(_CategoryMatches(
                image_index=np.concatenate(image_index)[order],
                true_pos=matched & ~ignored,
                false_pos=~matched & ~ignored,
                gt_per_image=gt_per_image))
        return categories

    @property
    def num_images(self) -> int:
        return len(self.img_ids)

    def _precision(self, cat: _CategoryMatches, weights: np.ndarray):
        """Interpolated precision (T x R) as COCOeval.accumulate computes it, or None."""
        num_gt = float(np.dot(weights, cat.gt_per_image))
        if num_gt == 0:
            return None
        det_weights = weights[cat.image_index]
        keep = det_weights > 0
        det_weights = det_weights[keep].astype(float)
        tp_sum = np.cumsum(cat.true_pos[:, keep] * det_weights, axis=1)
        fp_sum = np.cumsum(cat.false_pos[:, keep] * det_weights, axis=1)
        precision = np.zeros((len(self.iou_thrs), len(self.rec_thrs)))
        num_det = tp_sum.shape[1]
        if num_det == 0:
            return precision
        recall = tp_sum / num_gt
        prec = tp_sum / (fp_sum + tp_sum + np.spacing(1))
        envelope = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
        for t in range(len(self.iou_thrs)):
            index = np.searchsorted(recall[t], self.rec_thrs, side='left')
            valid = index < num_det
            precision[t, valid] = envelope[t, index[valid]]
        return precision

    def ap(self, weights: np.ndarray = None) -> Dict[str, float]:
        """AP, AP50 and AP75 with image ``i`` counted ``weights[i]`` times (default: once)."""
        if weights is None:
            weights = np.ones(self.num_images)
        precisions = [p for p in (self._precision(c, weights) for c in self._categories)
                      if p is not None]
        if not precisions:
            return {name: float('nan') for name in AP_NAMES}
        stacked = np.stack(precisions, axis=-1)  # T x R x K
        t50 = int(np.argmin(np.abs(self.iou_thrs - 0.5)))
        t75 = int(np.argmin(np.abs(self.iou_thrs - 0.75)))
        return {'AP': float(stacked.mean()), 'AP50': float(stacked[t50].mean()),
                'AP75': float(stacked[t75].mean())}


def resample_weights(num_images: int, num_samples: int, seed: int) -> np.ndarray:
    """``num_samples`` x ``num_images`` draw counts: images resampled with replacement."""
    if num_samples < 1:
        raise ValueError(f'bootstrap intervals need at least 1 resample, got {num_samples}')
    if num_images < 1:
        raise ValueError('bootstrap intervals need at least 1 image, got none')
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, num_images, size=(num_samples, num_images))
    return np.stack([np.bincount(row, minlength=num_images) for row in draws])


def bootstrap_ap(matches: ImageMatches, weights: np.ndarray) -> Dict[str, np.ndarray]:
    """AP, AP50 and AP75 for each row of ``weights`` (see :func:`resample_weights`)."""
    samples = [matches.ap(w) for w in weights]
    return {name: np.array([s[name] for s in samples]) for name in AP_NAMES}


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> Sequence[float]:
    """The central ``level`` percentile interval of bootstrap samples."""
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return float(low), float(high)
