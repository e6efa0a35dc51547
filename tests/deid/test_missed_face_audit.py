"""The missed-face audit: visible noses and eyes must be pixelated, WholeBody faces covered."""
from rdid_mm.deid.face_boxes import FaceBox
from rdid_mm.deid.missed_face_audit import audit_faces


def _person(ann_id, points, face_box=None, iscrowd=0):
    keypoints = [0] * 51
    for index, (x, y, v) in points.items():
        keypoints[3 * index:3 * index + 3] = [x, y, v]
    ann = dict(id=ann_id, keypoints=keypoints, iscrowd=iscrowd)
    if face_box is not None:
        ann.update(face_box=face_box, face_valid=True)
    return ann


def test_visible_face_outside_every_box_is_missed():
    boxes = [FaceBox(0, 0, 20, 20, 1.0, ('x', ))]
    anns = [
        _person(1, {0: (10, 10, 2), 1: (12, 8, 2)}),           # covered
        _person(2, {0: (50, 50, 2)}),                          # nose outside: missed
        _person(3, {0: (50, 50, 1), 3: (60, 60, 2)}),          # hidden nose, ear: not checked
        _person(4, {1: (15, 5, 2), 2: (25, 5, 2)}),            # one eye outside: missed
        _person(5, {0: (90, 90, 2)}, iscrowd=1),               # crowd: not checked
        _person(6, {}, face_box=[5, 5, 10, 10]),               # WholeBody face covered
        _person(7, {}, face_box=[15, 0, 20, 20]),              # a quarter covered: missed
        _person(8, {}, face_box=[50, 50, 0, 10]),              # empty face box: not checked
        _person(9, {}, face_box=[120, 0, 20, 20]),             # outside the image: not checked
        _person(10, {}, face_box=[-10, -10, 20, 20]),          # in-image part covered
    ]
    checked, missed = audit_faces(anns, boxes, 100, 100)
    assert checked == 6
    assert [m['annotation_id'] for m in missed] == [2, 4, 7]
    assert 'nose at (50, 50) not pixelated' in missed[0]['reason']
    assert 'right_eye' in missed[1]['reason']
    assert '25% pixelated' in missed[2]['reason']
    assert audit_faces(anns, boxes, 100, 100, min_coverage=0.25)[1][-1]['annotation_id'] == 4


def test_no_annotations_nothing_checked():
    assert audit_faces(None, [], 10, 10) == (0, [])
    assert audit_faces([dict(id=1, bbox=[0, 0, 1, 1])], [], 10, 10) == (0, [])
