"""DSFD (the paper's face detector) through ``face-detection``, from a local weights file.

``face_detection.DSFDDetector`` downloads its weights into torch hub's cache when built. Here the
weights must already be on disk (a connected machine downloads them once); the file is read
weights-only with :func:`rdid_mm.utils.weights_file.load_state_dict_file`.
"""
import os.path as osp
import warnings
from typing import Optional

import numpy as np

from rdid_mm.registry import FACE_SOURCES
from rdid_mm.utils.weights_file import load_state_dict_file

from .base import BaseFaceSource

DSFD_WEIGHTS_URL = 'https://folk.ntnu.no/haakohu/WIDERFace_DSFD_RES152.pth'
DSFD_WEIGHTS_NAME = 'WIDERFace_DSFD_RES152.pth'


def default_dsfd_weights_path() -> str:
    """Where ``face-detection`` keeps the weights: ``<torch hub dir>/checkpoints/<name>``.

    Follows ``TORCH_HOME`` (torch hub's directory is ``$TORCH_HOME/hub``).
    """
    import torch.hub
    return osp.join(torch.hub.get_dir(), 'checkpoints', DSFD_WEIGHTS_NAME)


@FACE_SOURCES.register_module(name='dsfd')
class DSFDSource(BaseFaceSource):
    """DSFD face detector (ResNet-152, trained on WIDER FACE).

    Args:
        weights: the weights file (default: :func:`default_dsfd_weights_path`).
        score_thr: confidence threshold (face-detection's default 0.5).
        nms_iou_thr: NMS IoU threshold (face-detection's default 0.3).
        max_resolution: if set, images are downscaled so the longer side is at most this.
        num_threads: torch CPU threads (default: torch's choice).
    """
    name = 'dsfd'

    def __init__(self, weights: Optional[str] = None, score_thr: float = 0.5,
                 nms_iou_thr: float = 0.3, max_resolution: Optional[int] = None,
                 num_threads: Optional[int] = None):
        self.weights = weights
        self.score_thr = score_thr
        self.nms_iou_thr = nms_iou_thr
        self.max_resolution = max_resolution
        self.num_threads = num_threads
        self._detector = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_detector'] = None
        return state

    @property
    def weights_path(self) -> str:
        return self.weights or default_dsfd_weights_path()

    @property
    def detector(self):
        if self._detector is None:
            self._detector = self._build_detector()
        return self._detector

    def _build_detector(self):
        import torch
        from face_detection.base import Detector
        from face_detection.dsfd.config import resnet152_model_config
        from face_detection.dsfd.detect import DSFDDetector
        from face_detection.dsfd.face_ssd import SSD

        path = self.weights_path
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'DSFD weights not found: expected {path}. Download {DSFD_WEIGHTS_URL} there on a '
                f'connected machine (or set TORCH_HOME, or pass the file as weights= / '
                f'--dsfd-weights).')
        state_dict = load_state_dict_file(path)
        if self.num_threads:
            torch.set_num_threads(self.num_threads)

        class LocalDSFDDetector(DSFDDetector):
            """DSFDDetector without its download: the network gets the local state_dict."""

            def __init__(self, **kwargs):
                Detector.__init__(self, **kwargs)
                with warnings.catch_warnings():
                    # torchvision warns that face-detection passes ``pretrained=False``.
                    warnings.simplefilter('ignore', UserWarning)
                    self.net = SSD(resnet152_model_config)
                self.net.load_state_dict(state_dict)
                self.net.eval()

        return LocalDSFDDetector(
            confidence_threshold=self.score_thr, nms_iou_threshold=self.nms_iou_thr,
            device=torch.device('cpu'), max_resolution=self.max_resolution,
            fp16_inference=False, clip_boxes=True)

    def detect(self, image: np.ndarray, annotations=None) -> np.ndarray:
        with warnings.catch_warnings():
            # face-detection wraps inference in the deprecated torch.cuda.amp.autocast.
            warnings.simplefilter('ignore', FutureWarning)
            boxes = self.detector.detect(np.ascontiguousarray(image))
        return np.asarray(boxes, dtype=np.float64).reshape(-1, 5)

