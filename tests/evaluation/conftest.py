"""Fixtures of the evaluation tests: the sample's image files, the detector double, and
pycocotools' own scores for the ground truth."""
import json
import os.path as osp

import pytest

from .detector_double import GroundTruthKeypointRCNN


@pytest.fixture(scope='session')
def sample_gt_files(sample_ann_file, sample_img_dir):
    with open(sample_ann_file) as f:
        images = json.load(f)['images']
    return {im['id']: osp.join(sample_img_dir, im['file_name']) for im in images}


@pytest.fixture(scope='session')
def gt_double(sample_ann_file, sample_gt_files):
    """The double for the original sample images."""
    return GroundTruthKeypointRCNN(
        sample_ann_file, {i: {'gt': path} for i, path in sample_gt_files.items()})


@pytest.fixture(scope='session')
def pycocotools_gt_stats(sample_ann_file):
    """pycocotools' own stats for the annotations fed back as detections (score 1)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(sample_ann_file)
        stats = {}
        for iou_type in ('bbox', 'keypoints'):
            field = 'bbox' if iou_type == 'bbox' else 'keypoints'
            dets = [{'image_id': a['image_id'], 'category_id': a['category_id'],
                     field: a[field], 'score': 1.0} for a in coco.dataset['annotations']]
            ev = COCOeval(coco, coco.loadRes(dets), iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            stats[iou_type] = ev.stats.copy()
    return stats
