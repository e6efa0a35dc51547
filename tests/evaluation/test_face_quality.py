"""Face-region PSNR/SSIM on the de-identified sample."""
import math

import numpy as np
import pytest
import torch

from rdid_mm.evaluation import FaceRegionQualityMetric
from rdid_mm.layout import DeidLayout
from rdid_mm.evaluation.face_quality import face_region_scores
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb


@pytest.fixture(scope='module')
def samples_s8(deid_sample):
    return [s for s in DeidLayout(deid_sample).samples(8) if s['face_boxes']]


def test_box_to_slices_covers_the_box_and_clips():
    rows, cols = box_to_slices([10.4, 5.6, 20.2, 10.0], 100, 200)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (5, 16, 10, 31)
    rows, cols = box_to_slices([-5, 90, 20, 30], 100, 200)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (90, 100, 0, 15)


def test_pixelated_faces_score_below_identical_faces(samples_s8):
    assert samples_s8, 'the sample has faces'
    for sample in samples_s8:
        gt, mosaic = read_rgb(sample['gt_path']), read_rgb(sample['mosaic_path'])
        scores = face_region_scores(mosaic, gt, sample['face_boxes'])
        assert len(scores) == len(sample['face_boxes'])
        for score in scores:
            assert 10 < score['PSNR'] < 60 and score['PSNR'] != math.inf
            assert math.isnan(score['SSIM']) or -1 <= score['SSIM'] < 0.999
        assert all(s['PSNR'] == math.inf for s in face_region_scores(gt, gt,
                                                                     sample['face_boxes']))


def test_metric_reports_restored_and_mosaic_quality(samples_s8):
    metric = FaceRegionQualityMetric(pred_key='fake_gt')
    outputs = []
    for sample in samples_s8:
        halfway = (read_rgb(sample['gt_path']).astype(np.float32) +
                   read_rgb(sample['mosaic_path'])) / 2  # a "restoration" between both
        outputs.append(dict(sample, fake_gt=torch.from_numpy(halfway).permute(2, 0, 1)))
    metric.process(None, outputs)
    result = metric.evaluate(len(outputs))
    assert set(result) == {'face/PSNR', 'face/SSIM', 'face/faces', 'face/mosaic_PSNR',
                           'face/mosaic_SSIM'}
    assert result['face/faces'] == sum(len(s['face_boxes']) for s in samples_s8)
    assert result['face/PSNR'] > result['face/mosaic_PSNR'] + 3
    assert result['face/SSIM'] > result['face/mosaic_SSIM']


def test_missing_face_boxes_are_named(samples_s8):
    sample = {k: v for k, v in samples_s8[0].items() if k != 'face_boxes'}
    with pytest.raises(KeyError, match='has no face_boxes'):
        FaceRegionQualityMetric(pred_key='img_mosaic').process(None, [sample])
