"""The per-image bootstrap reproduces COCOeval exactly and resamples images correctly."""
import copy
import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from rdid_mm.evaluation.bootstrap import (
    ImageMatches,
    bootstrap_ap,
    percentile_interval,
    resample_weights,
)
from rdid_mm.evaluation.coco_scoring import load_coco, run_cocoeval


@pytest.fixture(scope='module')
def noisy_detections(sample_ann_file):
    """Three jittered, randomly scored copies of every annotation: AP well below 1."""
    rng = np.random.default_rng(0)
    with open(sample_ann_file) as f:
        anns = json.load(f)['annotations']
    dets = []
    for ann in anns:
        for _ in range(3):
            kpts = np.array(ann['keypoints'], float)
            kpts[0::3] += rng.normal(0, 5, 17)
            kpts[1::3] += rng.normal(0, 5, 17)
            dets.append(dict(image_id=ann['image_id'], category_id=1,
                             bbox=(np.array(ann['bbox']) + rng.normal(0, 8, 4)).tolist(),
                             keypoints=kpts.tolist(), score=float(rng.random())))
    return dets


@pytest.mark.parametrize('iou_type', ['bbox', 'keypoints'])
def test_unit_weights_reproduce_cocoeval(sample_ann_file, noisy_detections, iou_type):
    coco_eval = run_cocoeval(load_coco(sample_ann_file), noisy_detections, iou_type)
    ap = ImageMatches(coco_eval).ap()
    assert 0.2 < coco_eval.stats[0] < 0.8
    np.testing.assert_allclose([ap['AP'], ap['AP50'], ap['AP75']], coco_eval.stats[:3],
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize('iou_type', ['bbox', 'keypoints'])
def test_weights_equal_duplicated_images(sample_ann_file, noisy_detections, iou_type):
    """Counting image 785 twice gives COCOeval's AP on a json holding it twice."""
    coco = load_coco(sample_ann_file)
    dataset = copy.deepcopy(coco.dataset)
    copy_id, next_ann = 10**9, 10**9
    dataset['images'].append(dict(coco.imgs[785], id=copy_id))
    for ann in coco.imgToAnns[785]:
        next_ann += 1
        dataset['annotations'].append(dict(ann, image_id=copy_id, id=next_ann))
    doubled = COCO()
    doubled.dataset = dataset
    doubled.createIndex()
    dets = noisy_detections + [dict(d, image_id=copy_id) for d in noisy_detections
                               if d['image_id'] == 785]
    expected = run_cocoeval(doubled, dets, iou_type).stats[:3]

    matches = ImageMatches(run_cocoeval(coco, noisy_detections, iou_type))
    weights = np.array([2 if i == 785 else 1 for i in matches.img_ids])
    ap = matches.ap(weights)
    np.testing.assert_allclose([ap['AP'], ap['AP50'], ap['AP75']], expected, atol=1e-12)


def test_resampling_and_intervals(sample_ann_file, noisy_detections):
    matches = ImageMatches(run_cocoeval(load_coco(sample_ann_file), noisy_detections, 'bbox'))
    weights = resample_weights(matches.num_images, 200, seed=3)
    assert weights.shape == (200, 4) and (weights.sum(axis=1) == 4).all()
    np.testing.assert_array_equal(weights, resample_weights(4, 200, seed=3))
    samples = bootstrap_ap(matches, weights)
    low, high = percentile_interval(samples['AP'])
    assert low < matches.ap()['AP'] < high
    assert high - low > 0.01
