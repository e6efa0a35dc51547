"""Several strengths in one evaluation: scored separately, named with the strength, none dropped."""
import pytest
from mmengine.evaluator import Evaluator

from rdid_mm.evaluation import DetectorAPMetric, FaceRegionQualityMetric
from rdid_mm.layout import DeidLayout

from .detector_double import GroundTruthKeypointRCNN, read_pillow


@pytest.fixture(scope='module')
def strength_double(deid_sample):
    """Answers every annotation for the original pixels, every second one for the s16 mosaic."""
    layout = DeidLayout(deid_sample)
    expected = {s['img_id']: {'gt': s['gt_path'], 'mosaic16': s['mosaic_path']}
                for s in layout.samples(16)}
    return GroundTruthKeypointRCNN(layout.ann_file, expected)


def _samples(deid_sample):
    """What a model would return at two strengths: at s8 the original pixels (a perfect restorer),
    at s16 the mosaic itself (no restoration)."""
    layout = DeidLayout(deid_sample)
    samples = []
    for strength, key in ((8, 'gt_path'), (16, 'mosaic_path')):
        for sample in layout.samples(strength):
            sample['fake_gt'] = read_pillow(sample[key if strength == 16 else 'gt_path']) * 255.0
            samples.append(sample)
    return samples


def test_two_strengths_give_two_aps(deid_sample, strength_double):
    metric = DetectorAPMetric(detector=strength_double, pred_key='fake_gt')
    evaluator = Evaluator([metric, FaceRegionQualityMetric(pred_key='fake_gt')])
    evaluator.dataset_meta = dict(ann_file=DeidLayout(deid_sample).ann_file, strengths=[8, 16])
    samples = _samples(deid_sample)
    # interleaved, as a sampler over (image, strength) pairs yields them, plus one repeat
    order = [samples[i // 2 + (i % 2) * 4] for i in range(8)] + [samples[0]]
    for start in range(0, len(order), 3):
        evaluator.process(order[start:start + 3])
    metrics = evaluator.evaluate(9)
    assert metrics['coco/s8/bbox_AP'] == pytest.approx(1.0)
    assert metrics['coco/s16/bbox_AP'] < 0.9  # every second person found
    assert metrics['coco/s16/kpt_AP'] < metrics['coco/s8/kpt_AP']
    # the unqualified names (save_best) are those of the smallest strength
    assert metrics['coco/kpt_AP'] == metrics['coco/s8/kpt_AP']
    assert metrics['coco/bbox_AP'] == metrics['coco/s8/bbox_AP']
    # face quality per strength too: s8 is the original (identical faces), s16 is the mosaic
    assert metrics['face/s8/SSIM'] == pytest.approx(1.0)
    assert metrics['face/s16/SSIM'] < 0.99
    assert metrics['face/SSIM'] == metrics['face/s8/SSIM']


def test_select_strength_and_one_strength_names(deid_sample, strength_double):
    ann_file = DeidLayout(deid_sample).ann_file
    metric = DetectorAPMetric(ann_file, detector=strength_double, select_strength=16)
    samples = _samples(deid_sample)
    metric.process(None, samples)
    metrics = metric.evaluate(len(samples))
    assert metrics['coco/kpt_AP'] == metrics['coco/s16/kpt_AP']
    single = DetectorAPMetric(ann_file, detector=strength_double)
    single.process(None, samples[:4])
    names = list(single.evaluate(4))
    assert 'coco/kpt_AP' in names and not any('/s8/' in n for n in names)


def test_an_explicit_ann_file_that_is_not_the_datasets_is_refused(deid_sample, sample_ann_file):
    metric = DetectorAPMetric(sample_ann_file)
    with pytest.raises(ValueError, match='is not the annotation file of the evaluated dataset'):
        metric.dataset_meta = dict(ann_file=DeidLayout(deid_sample).ann_file)
