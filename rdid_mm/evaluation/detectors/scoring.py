"""Run any evaluation detector over image files and score it with COCOeval and the image
bootstrap (the same two steps as a Table 1 row, for detectors built by :func:`build_detector`)."""
from typing import Dict, List, Sequence, Tuple

import numpy as np

from rdid_mm.utils.io import read_rgb

from ..bootstrap import ImageMatches, bootstrap_ap
from ..coco_scoring import run_cocoeval, stats_of
from ..detection import predictions_to_records, run_detector, to_detector_input, to_uint8_chw

IOU_SHORT = {'bbox': 'bbox', 'keypoints': 'kpt'}


def detect_files(detector, img_ids: Sequence[int], paths: Sequence[str],
                 batch_size: int = 1) -> List[dict]:
    """COCO result records of ``detector`` on the image files (read as stored, no EXIF rotation)."""
    if len(img_ids) != len(paths):
        raise ValueError(f'{len(img_ids)} image ids but {len(paths)} image files')
    records = []
    for start in range(0, len(paths), batch_size):
        ids = list(img_ids[start:start + batch_size])
        images = [to_uint8_chw(read_rgb(p)) for p in paths[start:start + batch_size]]
        if hasattr(detector, 'detect'):
            per_image = detector.detect(images, ids)
        else:  # torchvision's Keypoint R-CNN
            device = next(detector.parameters()).device
            predictions = run_detector(detector, [to_detector_input(i, device) for i in images])
            per_image = [predictions_to_records(i, p) for i, p in zip(ids, predictions)]
        for image_records in per_image:
            records.extend(image_records)
    return records


def score_with_bootstrap(coco, detections: Sequence[dict], iou_types: Sequence[str],
                         img_ids: Sequence[int], weights: np.ndarray
                         ) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """COCOeval stats (``bbox_AP`` ...) and AP/AP50/AP75 under the image resamples ``weights``
    (:func:`rdid_mm.evaluation.bootstrap.resample_weights`), per iou type."""
    stats, samples = {}, {}
    for iou_type in iou_types:
        coco_eval = run_cocoeval(coco, detections, iou_type, img_ids)
        stats.update(stats_of(coco_eval))
        for name, values in bootstrap_ap(ImageMatches(coco_eval), weights).items():
            samples[f'{IOU_SHORT[iou_type]}_{name}'] = values
    return stats, samples
