"""rdid_mm.utils.boxes: slices, overlap, IoU and merging until apart."""
from rdid_mm.utils.boxes import box_iou, boxes_overlap, merge_until_apart, xywh_iou


def _enclose(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def test_merging_goes_on_until_no_pair_is_mergeable():
    """The first two overlap; their enclosing box then reaches the third (which overlapped
    neither alone); the fourth stays apart."""
    boxes = [(0, 0, 10, 10), (8, 8, 18, 18), (12, 0, 20, 6), (40, 40, 50, 50)]
    assert not boxes_overlap(boxes[0], boxes[2]) and not boxes_overlap(boxes[1], boxes[2])
    assert merge_until_apart(boxes, boxes_overlap, _enclose) == [(0, 0, 20, 18), (40, 40, 50, 50)]


def test_nothing_to_merge_keeps_the_items_and_their_order():
    boxes = [(20, 0, 30, 10), (0, 0, 10, 10)]
    assert merge_until_apart(boxes, boxes_overlap, _enclose) == boxes
    assert merge_until_apart([], boxes_overlap, _enclose) == []


def test_iou_of_corner_and_xywh_boxes_agree():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == xywh_iou((0, 0, 10, 10), (5, 0, 10, 10))


def test_boxes_overlap_only_with_a_common_area():
    """Overlap is a positive-area intersection: touching edges or corners is not, a box inside
    another is, either order answers the same; it agrees with the IoU being positive."""
    a = (0, 0, 10, 10)
    cases = {(5, 5, 15, 15): True, (2, 2, 4, 4): True, (-5, 3, 20, 4): True,
             (10, 0, 20, 10): False, (0, 10, 10, 20): False, (10, 10, 20, 20): False,
             (11, 0, 20, 10): False, (9.5, 9.5, 12, 12): True}
    for b, expected in cases.items():
        assert boxes_overlap(a, b) == boxes_overlap(b, a) == expected, b
        assert (box_iou(a, b) > 0) == expected, b
