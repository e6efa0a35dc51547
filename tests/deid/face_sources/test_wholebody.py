"""The wholebody source returns the valid COCO-WholeBody face boxes, nothing else."""
import numpy as np

from rdid_mm.deid.face_sources import WholeBodySource, build_face_source


def test_wholebody_boxes_equal_the_json(sample_images, valid_face_boxes):
    source = build_face_source('wholebody')
    assert isinstance(source, WholeBodySource) and source.needs_annotations
    for file_name, (_, pixels, anns) in sample_images.items():
        expected = sorted(box for name, _, box in valid_face_boxes if name == file_name)
        detections = source(pixels, anns)
        assert sorted(d[:4] for d in detections) == expected
        assert all(d[4] == 1.0 and d[5] == 'wholebody' for d in detections)


def test_invalid_or_missing_face_boxes_are_ignored():
    image = np.zeros((10, 10, 3), np.uint8)
    anns = [dict(face_box=[1, 2, 3, 4], face_valid=False), dict(face_box=[1, 2, 3, 4]),
            dict(keypoints=[0] * 51), dict(face_box=[], face_valid=True)]
    assert WholeBodySource()(image, anns) == []
    assert WholeBodySource()(image, None) == []
