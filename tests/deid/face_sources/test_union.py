"""Several face sources together, and the registry of face sources."""
import numpy as np
import pytest

from rdid_mm.deid.face_boxes import prepare_face_boxes
from rdid_mm.deid.face_sources import BaseFaceSource, FaceSourceUnion, build_face_source
from rdid_mm.registry import FACE_SOURCES


def test_registered_names():
    for name in ('centerface', 'dsfd', 'coco_keypoints', 'wholebody', 'union'):
        assert FACE_SOURCES.get(name) is not None


def test_union_tags_sources_and_duplicates_merge(sample_images):
    union = FACE_SOURCES.build(dict(type='union', sources=['wholebody', 'coco_keypoints']))
    assert union.needs_annotations and union.source_names == ['wholebody', 'coco_keypoints']
    info, pixels, anns = sample_images['000000000785.jpg']
    detections = union(pixels, anns)
    assert sorted(d[5] for d in detections) == ['coco_keypoints', 'wholebody']
    boxes, stats = prepare_face_boxes(detections, info['width'], info['height'])
    assert len(boxes) == 1 and boxes[0].sources == ('coco_keypoints', 'wholebody')
    assert stats.merged == 1
    assert union.detect(pixels, anns).shape == (2, 5)


def test_detector_only_union_needs_no_annotations():
    union = FaceSourceUnion(['centerface', dict(type='dsfd', score_thr=0.9)])
    assert not union.needs_annotations
    assert union.sources[1].score_thr == 0.9


class _Fixed(BaseFaceSource):
    name = 'fixed'

    def detect(self, image, annotations=None):
        return [[1, 2, 3, 4, 0.5]]


def test_instances_and_bad_configs():
    union = FaceSourceUnion([_Fixed()])
    assert union(np.zeros((5, 5, 3), np.uint8)) == [(1.0, 2.0, 3.0, 4.0, 0.5, 'fixed')]
    with pytest.raises(KeyError, match='unknown face source'):
        build_face_source('haar')
    with pytest.raises(TypeError):
        build_face_source(3)
    with pytest.raises(ValueError, match='twice'):
        FaceSourceUnion(['wholebody', 'wholebody'])
    with pytest.raises(ValueError, match='at least one'):
        FaceSourceUnion([])
