"""From raw detections to final boxes: margin, rounding, clipping, dropping, merging."""
import math

import numpy as np

from rdid_mm.deid.face_boxes import (
    FaceBox,
    covered_fraction,
    merge_overlapping,
    nms,
    point_in_boxes,
    prepare_face_boxes,
)
from rdid_mm.utils.boxes import box_iou


def test_margin_rounds_outwards_and_clips():
    boxes, stats = prepare_face_boxes([(10.2, 20.7, 30.1, 40.0, 0.9, 'a')], 100, 100, margin=0.1)
    # width 19.9 -> 1.99 each side, height 19.3 -> 1.93 each side
    assert boxes == [FaceBox(8, 18, 33, 42, 0.9, ('a', ))]
    clipped, _ = prepare_face_boxes([(-5, -5, 10, 10, 1.0, 'a')], 8, 9, margin=0.0)
    assert clipped == [FaceBox(0, 0, 8, 9, 1.0, ('a', ))]
    assert stats.detections == {'a': 1} and stats.dropped_empty == stats.dropped_outside == 0


def test_empty_and_out_of_image_boxes_are_dropped_and_counted():
    detections = [(5, 5, 5, 9, 1.0, 'a'), (5, 5, 2, 9, 1.0, 'a'), (math.nan, 0, 3, 3, 1.0, 'a'),
                  (200, 10, 220, 30, 1.0, 'b'), (-30, -30, -10, -10, 1.0, 'b'),
                  (10, 10, 20, 20, 0.5, 'b')]
    boxes, stats = prepare_face_boxes(detections, 100, 50, margin=0.2)
    assert boxes == [FaceBox(8, 8, 22, 22, 0.5, ('b', ))]
    assert stats.dropped_empty == 3
    assert stats.dropped_outside == 2
    assert stats.detections == {'a': 3, 'b': 3}


def test_overlapping_boxes_merge_into_their_union_with_both_sources():
    detections = [(10, 10, 30, 30, 0.6, 'centerface'), (12, 11, 31, 29, 1.0, 'wholebody'),
                  (29, 25, 40, 45, 0.3, 'centerface'), (60, 60, 70, 70, 0.8, 'centerface'),
                  (70, 60, 80, 70, 0.8, 'wholebody')]
    boxes, stats = prepare_face_boxes(detections, 100, 100)
    assert boxes == [FaceBox(10, 10, 40, 45, 1.0, ('centerface', 'wholebody')),
                     FaceBox(60, 60, 70, 70, 0.8, ('centerface', )),
                     FaceBox(70, 60, 80, 70, 0.8, ('wholebody', ))]
    assert stats.merged == 2
    # order of the input does not matter, and the result has no overlaps
    assert merge_overlapping(reversed([FaceBox(*d[:4], d[4], (d[5], )) for d in detections])) == \
        merge_overlapping([FaceBox(*d[:4], d[4], (d[5], )) for d in detections])


def test_chain_of_overlaps_merges_completely():
    chain = [FaceBox(i * 8, 0, i * 8 + 10, 10, 1.0, ('a', )) for i in range(6)]
    assert merge_overlapping(chain[::2] + chain[1::2]) == [FaceBox(0, 0, 50, 10, 1.0, ('a', ))]


def test_record_format():
    assert FaceBox(3, 4, 13, 24, 0.123456, ('a', 'b')).to_record() == [3, 4, 10, 20, 0.1235, 'a+b']


def test_iou_coverage_points_and_nms():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == 50 / 150
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    final = [FaceBox(0, 0, 10, 10, 1.0, ('a', ))]
    assert covered_fraction((5, 0, 15, 10), final) == 0.5
    assert covered_fraction((5, 5, 5, 10), final) == 0.0
    assert point_in_boxes(9.9, 0, final) and not point_in_boxes(10, 5, final)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    keep = nms(boxes, np.array([0.5, 0.9, 0.4]), 0.3)
    assert keep.tolist() == [1, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.3).tolist() == []
