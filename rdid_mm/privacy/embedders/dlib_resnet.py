"""dlib's ResNet face-recognition model, aligned with dlib's 5-point landmark model.

Both model files ship in the ``face_recognition_models`` package (Davis King's dlib-models,
released into the public domain; the package's LICENSE is CC0 1.0) and run with the
``dlib-bin`` wheel (Boost Software License): no hub, no download. The ResNet maps a 150 x 150
aligned face chip to 128 numbers; dlib trained it so that one person's faces lie within 0.6 of
each other (99.38% on LFW). The 68-point landmark model in the same package (trained on iBUG
300-W, whose licence excludes commercial use) is never loaded.
"""
import importlib.util
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from rdid_mm.registry import EMBEDDERS

from .base import BaseEmbedder

LANDMARK_FILE = 'shape_predictor_5_face_landmarks.dat'
RESNET_FILE = 'dlib_face_recognition_resnet_model_v1.dat'


def face_recognition_models_dir() -> str:
    """The ``models`` folder of the installed ``face_recognition_models`` package.

    Found without importing the package, whose ``__init__`` imports the deprecated
    ``pkg_resources`` only to build these same paths.
    """
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('the dlib embedder needs the face_recognition_models package '
                          '(pip install -r requirements/privacy.txt)')
    return osp.join(list(spec.submodule_search_locations)[0], 'models')


@EMBEDDERS.register_module(name='dlib')
class DlibResNetEmbedder(BaseEmbedder):
    """dlib ResNet (128-d, Euclidean distance, same-person threshold 0.6).

    Args:
        models_dir: folder holding the two model files (default: ``face_recognition_models``'s).
        num_jitters: dlib's test-time augmentation (0: one pass per face, deterministic).
        padding: margin of the aligned chip around the face, as dlib's ``get_face_chip`` (0.25).
        min_face_size: smallest face (sqrt(w * h) of the box, pixels) the audit embeds.
    """
    name = 'dlib'
    threshold = 0.6

    def __init__(self, models_dir: Optional[str] = None, num_jitters: int = 0,
                 padding: float = 0.25, min_face_size: float = 24.0):
        self.models_dir = models_dir
        self.num_jitters = int(num_jitters)
        self.padding = float(padding)
        self.min_face_size = float(min_face_size)
        self._models = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_models'] = None
        return state

    @property
    def models(self):
        if self._models is None:
            try:
                import dlib
            except ImportError as err:
                raise ImportError('the dlib embedder needs dlib (pip install -r '
                                  'requirements/privacy.txt)') from err
            folder = self.models_dir or face_recognition_models_dir()
            paths = [osp.join(folder, name) for name in (LANDMARK_FILE, RESNET_FILE)]
            for path in paths:
                if not osp.isfile(path):
                    raise FileNotFoundError(f'dlib model file not found: {path}')
            self._models = (dlib.shape_predictor(paths[0]),
                            dlib.face_recognition_model_v1(paths[1]), dlib)
        return self._models

    @staticmethod
    def _rectangle(dlib, box: Sequence[float]):
        x, y, w, h = (float(v) for v in box[:4])
        return dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h)))

    def landmarks(self, image: np.ndarray, box: Sequence[float]) -> np.ndarray:
        """dlib's 5 points (eye corners, below the nose) found inside ``box``: 5 x 2."""
        predictor, _, dlib = self.models
        shape = predictor(np.ascontiguousarray(image), self._rectangle(dlib, box))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)

    def embed(self, image: np.ndarray, box: Sequence[float],
              landmarks: Optional[np.ndarray] = None) -> np.ndarray:
        predictor, resnet, dlib = self.models
        image = np.ascontiguousarray(image)
        rect = self._rectangle(dlib, box)
        if landmarks is None:
            shape = predictor(image, rect)
        else:
            points = [dlib.point(int(round(x)), int(round(y))) for x, y in landmarks]
            shape = dlib.full_object_detection(rect, points)
        vector = resnet.compute_face_descriptor(image, shape, self.num_jitters, self.padding)
        return np.asarray(vector, dtype=np.float64)

    def detect_faces(self, image: np.ndarray, score_thr: float = 0.5) -> List[List[float]]:
        """dlib's HOG frontal-face detector (built into dlib), the image upsampled once.

        Its default threshold (0) lets through faint false faces (a mission patch on
        scikit-image's astronaut scores 0.12; her face 1.16), so detections below
        ``score_thr`` are dropped.
        """
        _, _, dlib = self.models
        detector = dlib.get_frontal_face_detector()
        rects, scores, _ = detector.run(np.ascontiguousarray(image), 1, 0.0)
        return [[r.left(), r.top(), r.width(), r.height()]
                for r, score in zip(rects, scores) if score >= score_thr]
