"""Head boxes from COCO keypoints: every valid WholeBody face is found (or the audit counts it)."""
import numpy as np
import pytest

from rdid_mm.deid.face_boxes import prepare_face_boxes
from rdid_mm.deid.face_sources import CocoKeypointsSource, build_face_source
from rdid_mm.deid.missed_face_audit import audit_faces
from rdid_mm.utils.boxes import box_iou


def test_every_valid_wholebody_face_is_covered_or_audited(sample_images, valid_face_boxes):
    source = build_face_source('coco_keypoints')
    assert isinstance(source, CocoKeypointsSource)
    missed = set()
    boxes_per_image = {}
    for file_name, (info, pixels, anns) in sample_images.items():
        detections = source(pixels, anns)
        boxes_per_image[file_name] = [d[:4] for d in detections]
        final, _ = prepare_face_boxes(detections, info['width'], info['height'], margin=0.1)
        _, misses = audit_faces(anns, final, info['width'], info['height'])
        missed |= {m['annotation_id'] for m in misses}
    for file_name, ann_id, face in valid_face_boxes:
        best = max((box_iou(face, box) for box in boxes_per_image[file_name]), default=0.0)
        assert best >= 0.3 or ann_id in missed, (file_name, ann_id, best)
    # on this sample the pose boxes find all four faces well
    assert not missed


def test_one_box_per_person_with_face_keypoints(sample_images):
    source = CocoKeypointsSource()
    for _, (_, pixels, anns) in sample_images.items():
        with_face = [a for a in anns if not a['iscrowd']
                     and any(a['keypoints'][3 * k + 2] > 0 for k in range(5))]
        assert len(source(pixels, anns)) == len(with_face)


def _person(points, bbox=(0, 0, 100, 200), iscrowd=0):
    keypoints = [0] * 51
    for index, (x, y, v) in points.items():
        keypoints[3 * index:3 * index + 3] = [x, y, v]
    return dict(keypoints=keypoints, bbox=list(bbox), iscrowd=iscrowd)


def test_geometry_of_the_head_box():
    source = CocoKeypointsSource(height_ratio=1.0)
    # nose, eyes and ears: size = ear-to-ear extent, centred on it, nose + 0.08 s vertically
    box = source.head_box(_person({0: (50, 40, 2), 1: (55, 36, 2), 2: (45, 36, 2),
                                   3: (60, 38, 2), 4: (40, 38, 2)}))
    np.testing.assert_allclose(box, (40, 31.6, 60, 51.6))
    # a single keypoint and no shoulders: the size falls back to the person box
    single = source.head_box(_person({3: (30, 30, 1)}, bbox=(0, 0, 40, 100)))
    np.testing.assert_allclose(single, (30 - 7.5, 30 + 3.75 - 7.5, 30 + 7.5, 30 + 3.75 + 7.5))
    # shoulders give a minimum size
    wide = source.head_box(_person({0: (50, 40, 2), 5: (80, 80, 2), 6: (20, 80, 2)}))
    assert wide[2] - wide[0] == pytest.approx(0.45 * 60)
    # min_visibility=2 ignores occluded keypoints
    assert CocoKeypointsSource(min_visibility=2).head_box(_person({0: (5, 5, 1)})) is None


def test_crowds_and_persons_without_keypoints_give_no_box():
    image = np.zeros((10, 10, 3), np.uint8)
    anns = [_person({0: (5, 5, 2)}, iscrowd=1), dict(bbox=[0, 0, 5, 5]),
            _person({}), dict(keypoints=[1, 2])]
    assert CocoKeypointsSource()(image, anns) == []
