"""The face-source interface: an image (and its annotations) in, raw face detections out."""
from typing import List, Optional, Sequence

import numpy as np

from ..face_boxes import Detection


class BaseFaceSource:
    """A source of face boxes.

    Subclasses set ``name`` (the tag written to ``faces.json``) and ``needs_annotations`` (sources
    that read COCO annotations cannot run on a plain folder or a video), and implement
    :meth:`detect`. Heavy models load lazily on the first call, so a source is cheap to build and to
    send to a worker process.
    """
    name = 'base'
    needs_annotations = False

    def detect(self, image: np.ndarray, annotations: Optional[Sequence[dict]] = None) -> np.ndarray:
        """Return an ``N x 5`` float array of ``(x1, y1, x2, y2, score)`` in image pixels.

        Args:
            image: ``H x W x 3`` uint8 RGB pixels, as stored (no EXIF rotation).
            annotations: the image's COCO person annotations (``keypoints``, ``bbox``,
                ``iscrowd``; ``face_box``/``face_valid`` when COCO-WholeBody is given).
        """
        raise NotImplementedError

    def __call__(self, image: np.ndarray,
                 annotations: Optional[Sequence[dict]] = None) -> List[Detection]:
        boxes = np.asarray(self.detect(image, annotations), dtype=np.float64).reshape(-1, 5)
        return [(x1, y1, x2, y2, score, self.name) for x1, y1, x2, y2, score in boxes.tolist()]
