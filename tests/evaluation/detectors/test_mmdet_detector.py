"""An mmdet config as the evaluation detector: random RTMDet-tiny weights, the real sample."""
import numpy as np
import pytest
import torch

from rdid_mm.evaluation.coco_scoring import load_coco, score_detections
from rdid_mm.evaluation.detectors import build_detector
from rdid_mm.evaluation.detectors.scoring import detect_files
from rdid_mm.layout import DeidLayout
from rdid_mm.utils.compat import keeping_default_scope
from rdid_mm.utils.io import read_rgb

from .conftest import RTMDET_COCO, RTMDET_COCO_160, RTMDET_SMOKE


@pytest.fixture(scope='module')
def person_detector():
    return build_detector(dict(config=RTMDET_SMOKE, weights='none'))


def test_person_only_config_builds_a_one_class_rtmdet(person_detector):
    model = person_detector.model
    assert type(model).__name__ == 'RTMDet'
    assert model.bbox_head.num_classes == 1
    assert person_detector.classes == ('person', )
    assert person_detector.iou_types == ('bbox', )


def test_boxes_equal_mmdets_own_inference_on_the_file(person_detector, sample_images):
    """The wrapper feeds mmdet the pixels it would read itself (BGR, no resizing of ours)."""
    from mmdet.apis import inference_detector
    img_ids, paths = sample_images
    # first: mmdet's inference_detector on an array rewrites the model's test pipeline in place
    # (LoadImageFromFile -> LoadImageFromNDArray), after which file paths fail
    # in mmdet's scope, as init_detector leaves it for mmdet's own users (ours restores ours)
    with keeping_default_scope('mmdet'):
        direct = inference_detector(person_detector.model, paths[0]).pred_instances
    (records, ) = person_detector.detect([read_rgb(paths[0])], [img_ids[0]])
    assert len(records) == len(direct) > 0
    xyxy = direct.bboxes.numpy()
    expected = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    np.testing.assert_allclose([r['bbox'] for r in records], expected, atol=2e-3)
    np.testing.assert_allclose([r['score'] for r in records], direct.scores.numpy(), rtol=1e-6)
    assert {r['category_id'] for r in records} == {1}
    assert {r['image_id'] for r in records} == {img_ids[0]}
    assert all('keypoints' not in r for r in records)


def test_random_weights_are_seeded(sample_images):
    img_ids, paths = sample_images
    image = read_rgb(paths[1])
    first = build_detector(dict(config=RTMDET_SMOKE, weights='none', seed=2))
    again = build_detector(dict(config=RTMDET_SMOKE, weights='none', seed=2))
    other = build_detector(dict(config=RTMDET_SMOKE, weights='none'))  # seed 0
    (records, ) = first.detect([image], [1])
    assert len(records) == 100  # the smoke config's max_per_img
    assert again.detect([image], [1]) == [records]
    assert other.detect([image], [1]) != [records]


def test_coco80_config_keeps_only_the_person_class(sample_images):
    """mmdet's own COCO config: 80 classes, of which only 'person' (label 0) is reported."""
    from mmdet.apis import inference_detector
    detector = build_detector(dict(config=RTMDET_COCO, weights='none', seed=1,
                                   cfg_options=RTMDET_COCO_160))  # seed 1: some persons
    assert detector.model.bbox_head.num_classes == 80 and detector.person_label == 0
    img_ids, paths = sample_images
    with keeping_default_scope('mmdet'):
        direct = inference_detector(detector.model, paths[2]).pred_instances  # before any array
    persons = int((direct.labels == 0).sum())
    assert 0 < persons < len(direct), 'random weights should predict several classes'
    (records, ) = detector.detect([read_rgb(paths[2])], [img_ids[2]])
    assert len(records) == persons


def test_scores_the_gt_and_mosaic_rows(person_detector, deid_sample):
    """The GT and Mosaic s8 rows of the de-identified sample: records for every image, scored by
    COCOeval; the mosaic changes the input pixels, so it changes the detections."""
    layout = DeidLayout(deid_sample)
    samples = layout.samples(8)
    img_ids = [s['img_id'] for s in samples]
    coco = load_coco(layout.ann_file)
    rows = {}
    for key in ('gt_path', 'mosaic_path'):
        detections = detect_files(person_detector, img_ids, [s[key] for s in samples])
        assert {d['image_id'] for d in detections} == set(img_ids)
        for det in detections:
            info = coco.imgs[det['image_id']]
            x, y, w, h = det['bbox']
            assert w >= 0 and h >= 0 and x >= -1 and y >= -1
            # mmdet clips boxes to the padded square input, not to the image (as its own
            # evaluation scores them)
            side = max(info['width'], info['height'])
            assert x + w <= side + 1 and y + h <= side + 1
        stats = score_detections(coco, detections, ('bbox', ), img_ids)
        assert 0.0 <= stats['bbox_AP'] <= 1.0 and 0.0 <= stats['bbox_AR100'] <= 1.0
        rows[key] = detections
    assert rows['gt_path'] != rows['mosaic_path']


def test_torchvision_style_call_matches_detect(person_detector, sample_images):
    """The module call is torchvision's detection interface (float RGB in [0, 1])."""
    img_ids, paths = sample_images
    image = torch.from_numpy(read_rgb(paths[3])).permute(2, 0, 1)
    (pred, ) = person_detector([image.float() / 255])
    assert set(pred) == {'boxes', 'labels', 'scores'} and pred['boxes'].shape[1] == 4
    (records, ) = person_detector.detect([image], [img_ids[3]])
    assert len(records) == len(pred['boxes'])


def test_wrong_weights_file_is_named(tmp_path):
    from rdid_mm.utils.weights_file import CheckpointError
    bad = tmp_path / 'other.pth'
    torch.save({'state_dict': {'conv.weight': torch.zeros(1)}}, bad)
    with pytest.raises(CheckpointError, match=r'other.pth: does not fit the model of .*missing key'
                       r'\(s\)'):
        build_detector(dict(config=RTMDET_SMOKE, weights=str(bad)))
    with pytest.raises(CheckpointError, match='detector weights file not found: .*nope.pth'):
        build_detector(dict(config=RTMDET_SMOKE, weights=str(tmp_path / 'nope.pth')))
