"""Face-region PSNR/SSIM on the de-identified sample."""
import math

import numpy as np
import pytest
import torch

from rdid_mm.evaluation import FaceRegionQualityMetric
from rdid_mm.evaluation.face_quality import face_region_scores
from rdid_mm.layout import DeidLayout
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


def _numpy_psnr(image, reference):
    mse = np.mean((image.astype(np.float64) - reference.astype(np.float64))**2)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def test_an_identical_face_counts_in_the_mean_at_the_100_db_cap(samples_s8):
    """A "restoration" equal to the mosaic except one face pasted from the original: that face's
    PSNR is infinite, and the mean counts it as 100 dB (it used to be dropped)."""
    from rdid_mm.evaluation.face_quality import PSNR_CAP_DB
    assert PSNR_CAP_DB == 100.0
    outputs, expected = [], []
    for index, sample in enumerate(samples_s8):
        gt, restored = read_rgb(sample['gt_path']), read_rgb(sample['mosaic_path']).copy()
        for number, box in enumerate(sample['face_boxes']):
            rows, cols = box_to_slices(box, *gt.shape[:2])
            if index == 0 and number == 0:
                restored[rows, cols] = gt[rows, cols]
            expected.append(min(_numpy_psnr(restored[rows, cols], gt[rows, cols]), 100.0))
        outputs.append(dict(sample, fake_gt=torch.from_numpy(restored).permute(2, 0, 1)))
    assert expected.count(100.0) == 1 and len(expected) > 1
    metric = FaceRegionQualityMetric(pred_key='fake_gt', compare_mosaic=False)
    metric.process(None, outputs)
    result = metric.evaluate(len(outputs))
    assert result['face/faces'] == len(expected)
    assert result['face/PSNR'] == pytest.approx(float(np.mean(expected)), rel=1e-6)


def test_the_demo_summary_counts_identical_faces_at_the_cap():
    from rdid_mm.reports.demo import summarize_face_scores
    rows = [dict(held_out=False, mosaic_PSNR=20.0, restored_PSNR=math.inf, mosaic_L1=9.0,
                 restored_L1=0.0),
            dict(held_out=False, mosaic_PSNR=22.0, restored_PSNR=30.0, mosaic_L1=7.0,
                 restored_L1=3.0)]
    trained = summarize_face_scores(rows)['trained']
    assert trained['restored_PSNR'] == pytest.approx((100.0 + 30.0) / 2)
    assert trained['mosaic_PSNR'] == pytest.approx(21.0) and trained['restored_L1'] == 1.5
