"""The face-embedder interface: an image and a face box in, an identity vector out.

The privacy audit only compares vectors, so any face-recognition model fits behind it: register a
subclass in ``EMBEDDERS`` and name it in a config dict (``dict(type='onnx', model_path=...)``).
"""
from typing import List, Optional, Sequence, Union

import numpy as np

from rdid_mm.registry import EMBEDDERS


class BaseEmbedder:
    """A face-recognition model seen as a map from (image, face box) to a vector.

    Subclasses set ``name`` and ``threshold`` (the model's usual same-person distance, reported
    beside the rank-based figures) and implement :meth:`embed`; models load lazily on first use.
    ``min_face_size`` (pixels, the geometric mean of the box's sides) is the smallest face the
    audit embeds: below it a model sees too few pixels to say anything about identity.
    """
    name = 'base'
    threshold = float('nan')
    min_face_size = 24.0

    def embed(self, image: np.ndarray, box: Sequence[float],
              landmarks: Optional[np.ndarray] = None) -> np.ndarray:
        """The identity vector of the face in ``box`` ([x, y, w, h]) of an RGB uint8 image.

        ``landmarks`` (the model's own alignment points, from :meth:`landmarks`) align the face
        instead of the points the model would find itself.
        """
        raise NotImplementedError

    def landmarks(self, image: np.ndarray, box: Sequence[float]) -> Optional[np.ndarray]:
        """The alignment points the model would use for this face, or None if it has none."""
        return None

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Euclidean distance between vectors (rows of ``a`` against ``b``)."""
        return np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64),
                              axis=-1)

    def detect_faces(self, image: np.ndarray) -> List[List[float]]:
        """Face boxes [x, y, w, h] in a plain photograph (for gallery folders without boxes)."""
        raise NotImplementedError(f'the {self.name} embedder cannot find faces by itself; give '
                                  'the gallery as a de-identified dataset folder with faces.json')

    def face_size(self, box: Sequence[float]) -> float:
        """The size the threshold and the face-size buckets use: sqrt(w * h)."""
        return float(np.sqrt(max(float(box[2]), 0.0) * max(float(box[3]), 0.0)))


def build_embedder(cfg: Union[str, dict, BaseEmbedder, None] = None) -> BaseEmbedder:
    """An embedder from a registered name, a config dict or an instance (default: ``dlib``)."""
    if isinstance(cfg, BaseEmbedder):
        return cfg
    cfg = dict(type='dlib') if cfg is None else cfg
    if isinstance(cfg, str):
        cfg = dict(type=cfg)
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'an embedder is a registered name or a dict with "type", got {cfg!r}')
    if EMBEDDERS.get(cfg['type']) is None:
        raise KeyError(f'unknown face embedder {cfg["type"]!r}; registered: '
                       f'{sorted(EMBEDDERS.module_dict)}')
    return EMBEDDERS.build(cfg)
