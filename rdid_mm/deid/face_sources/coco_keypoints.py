"""Face boxes derived from the COCO face keypoints (nose, eyes, ears) of annotated persons.

No model: a head box from the pose annotation, which misses fewer faces than face detectors do on
small, blurred or profile faces. For each non-crowd person with at least one labeled face keypoint:

- size ``s``: the larger extent of the labeled face keypoints; at least ``shoulder_ratio`` times
  the shoulder distance when both shoulders are labeled; at least ``fallback_ratio`` times the
  longer side of the person box when nothing else gives a size (a single face keypoint);
- centre: the middle of the face keypoints' horizontal extent; vertically the nose plus ``0.08 s``
  (the nose sits just above the face-box centre), or, without a nose, the mean height of the other
  face keypoints plus ``0.25 s``;
- box: ``s`` wide and ``height_ratio * s`` high.

The constants were fitted to the COCO-WholeBody face boxes of the shared COCO sample.
"""
from typing import Optional, Sequence

import numpy as np

from rdid_mm.registry import FACE_SOURCES

from .base import BaseFaceSource

NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER = range(7)
FACE_KEYPOINTS = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR)


def person_keypoints(annotation: dict) -> Optional[np.ndarray]:
    """The 17 ``(x, y, v)`` keypoints of a COCO person annotation, or None."""
    keypoints = annotation.get('keypoints')
    if not keypoints or len(keypoints) < 51:
        return None
    return np.asarray(keypoints[:51], dtype=np.float64).reshape(17, 3)


@FACE_SOURCES.register_module(name='coco_keypoints')
class CocoKeypointsSource(BaseFaceSource):
    """Head boxes from COCO person keypoints (see the module docstring).

    Args:
        min_visibility: keypoints with ``v >= min_visibility`` are used (1: labeled, also when
            occluded; 2: visible only).
        height_ratio: box height over box width.
        shoulder_ratio: minimum size as a fraction of the shoulder distance.
        fallback_ratio: minimum size as a fraction of the person box's longer side, used when
            the face keypoints give no extent and the shoulders are not labeled.
    """
    name = 'coco_keypoints'
    needs_annotations = True

    def __init__(self, min_visibility: int = 1, height_ratio: float = 1.1,
                 shoulder_ratio: float = 0.45, fallback_ratio: float = 0.15):
        self.min_visibility = min_visibility
        self.height_ratio = height_ratio
        self.shoulder_ratio = shoulder_ratio
        self.fallback_ratio = fallback_ratio

    def detect(self, image: np.ndarray, annotations: Optional[Sequence[dict]] = None) -> np.ndarray:
        boxes = []
        for annotation in annotations or ():
            if annotation.get('iscrowd', 0):
                continue
            box = self.head_box(annotation)
            if box is not None:
                boxes.append(box + (1.0, ))
        return np.asarray(boxes, dtype=np.float64).reshape(-1, 5)

    def head_box(self, annotation: dict):
        """``(x1, y1, x2, y2)`` of the head of one person, or None without face keypoints."""
        keypoints = person_keypoints(annotation)
        if keypoints is None:
            return None
        labeled = keypoints[:, 2] >= self.min_visibility
        face = [k for k in FACE_KEYPOINTS if labeled[k]]
        if not face:
            return None
        xs, ys = keypoints[face, 0], keypoints[face, 1]
        size = max(xs.max() - xs.min(), ys.max() - ys.min())
        if labeled[LEFT_SHOULDER] and labeled[RIGHT_SHOULDER]:
            shoulders = np.linalg.norm(keypoints[LEFT_SHOULDER, :2] - keypoints[RIGHT_SHOULDER, :2])
            size = max(size, self.shoulder_ratio * shoulders)
        elif size <= 1:
            bbox = annotation.get('bbox') or (0, 0, 0, 0)
            size = max(size, self.fallback_ratio * max(bbox[2], bbox[3]), 1.0)
        centre_x = (xs.max() + xs.min()) / 2
        if labeled[NOSE]:
            centre_y = keypoints[NOSE, 1] + 0.08 * size
        else:
            centre_y = ys.mean() + 0.25 * size
        half_w, half_h = size / 2, self.height_ratio * size / 2
        return (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)
