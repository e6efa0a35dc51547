"""Missed-face audit: annotated persons whose face shows but got no pixelated box.

A non-crowd person is checked when its nose or an eye is visible (COCO ``v == 2``) or it has a
valid COCO-WholeBody face box with an area inside the image. Its face is *missed* when a visible
nose or eye lies outside every pixelated box, or when less than ``min_coverage`` of the in-image
part of its WholeBody face box is pixelated. Ears are
not checked: seen alone they mark the side or back of a head, and detector boxes often stop short
of them.
"""
from typing import List, Optional, Sequence, Tuple

from .face_boxes import FaceBox, covered_fraction, point_in_boxes
from .face_sources.coco_keypoints import LEFT_EYE, NOSE, RIGHT_EYE, person_keypoints
from .face_sources.wholebody import wholebody_face_box

AUDITED_KEYPOINTS = {NOSE: 'nose', LEFT_EYE: 'left_eye', RIGHT_EYE: 'right_eye'}
VISIBLE = 2


def audit_faces(annotations: Optional[Sequence[dict]], face_boxes: Sequence[FaceBox],
                width: float, height: float,
                min_coverage: float = 0.5) -> Tuple[int, List[dict]]:
    """Return ``(persons checked, missed faces)``; each miss names the annotation and why."""
    checked, missed = 0, []
    for ann in annotations or ():
        if ann.get('iscrowd', 0):
            continue
        keypoints = person_keypoints(ann)
        visible = [] if keypoints is None else [
            (name, keypoints[k]) for k, name in AUDITED_KEYPOINTS.items()
            if keypoints[k, 2] == VISIBLE]
        face_box = _inside_image(wholebody_face_box(ann), width, height)
        if not visible and face_box is None:
            continue
        checked += 1
        reasons = [f'{name} at ({point[0]:.0f}, {point[1]:.0f}) not pixelated'
                   for name, point in visible if not point_in_boxes(point[0], point[1], face_boxes)]
        if face_box is not None:
            coverage = covered_fraction(face_box, face_boxes)
            if coverage < min_coverage:
                reasons.append(f'WholeBody face box {coverage:.0%} pixelated')
        if reasons:
            missed.append(dict(annotation_id=ann.get('id'), reason='; '.join(reasons)))
    return checked, missed


def _inside_image(box, width, height):
    """The part of a corner box inside the image, or None if nothing is."""
    if box is None:
        return None
    x1, y1 = max(box[0], 0), max(box[1], 0)
    x2, y2 = min(box[2], width), min(box[3], height)
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
