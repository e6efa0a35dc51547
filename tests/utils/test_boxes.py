"""rdid_mm.utils.boxes: slices, IoU and merging until apart."""
from rdid_mm.utils.boxes import box_iou, merge_until_apart, xywh_iou


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _enclose(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def test_merging_goes_on_until_no_pair_is_mergeable():
    """The first two overlap; their enclosing box then reaches the third (which overlapped
    neither alone); the fourth stays apart."""
    boxes = [(0, 0, 10, 10), (8, 8, 18, 18), (12, 0, 20, 6), (40, 40, 50, 50)]
    assert not _overlap(boxes[0], boxes[2]) and not _overlap(boxes[1], boxes[2])
    assert merge_until_apart(boxes, _overlap, _enclose) == [(0, 0, 20, 18), (40, 40, 50, 50)]


def test_nothing_to_merge_keeps_the_items_and_their_order():
    boxes = [(20, 0, 30, 10), (0, 0, 10, 10)]
    assert merge_until_apart(boxes, _overlap, _enclose) == boxes
    assert merge_until_apart([], _overlap, _enclose) == []


def test_iou_of_corner_and_xywh_boxes_agree():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == xywh_iou((0, 0, 10, 10), (5, 0, 10, 10))
