"""The interface every evaluation detector offers, whatever library it comes from.

torchvision's Keypoint R-CNN set it: a module called on a list of RGB float images in [0, 1]
(``3 x H x W``, original size) that returns, per image, ``boxes`` (``x1, y1, x2, y2``), ``labels``
(COCO category ids; 1 is person), ``scores`` and, for pose models, ``keypoints`` (``N x 17 x 3``).
The wrappers of mmdet and mmpose models return the same, so :func:`rdid_mm.evaluation.detection.
run_detector` and :class:`DetectorAPMetric` take any of them. :meth:`EvalDetector.detect` gives
COCO result records directly; top-down pose models that take their person boxes from the ground
truth need the images' ids, so they are passed along.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..detection import predictions_to_records, to_uint8_chw

PERSON_CATEGORY_ID = 1


def to_bgr_array(image: torch.Tensor) -> np.ndarray:
    """A detector input (float RGB in [0, 1], or uint8) as the ``H x W x 3`` uint8 BGR array that
    OpenMMLab's pipelines expect from ``mmcv.imread``."""
    if image.dtype != torch.uint8:
        image = image.detach().float().mul(255.0).clamp(0, 255).round().to(torch.uint8)
    rgb = image.cpu().permute(1, 2, 0).numpy()
    return np.ascontiguousarray(rgb[..., ::-1])


def empty_prediction(with_keypoints: bool) -> Dict[str, torch.Tensor]:
    out = dict(boxes=torch.zeros((0, 4)), labels=torch.zeros((0, ), dtype=torch.int64),
               scores=torch.zeros((0, )))
    if with_keypoints:
        out['keypoints'] = torch.zeros((0, 17, 3))
    return out


class EvalDetector(nn.Module):
    """Base of the mmdet and mmpose wrappers: images in, torchvision-style predictions out.

    Subclasses hold the OpenMMLab model as ``self.model`` (so ``.to(device)`` moves it) and
    implement :meth:`predict_one` for one BGR uint8 image.
    """
    #: which COCO iou types its records carry: ('bbox',) or ('bbox', 'keypoints')
    iou_types: Tuple[str, ...] = ('bbox', )
    #: True when :meth:`forward` needs ``img_ids`` (person boxes from the annotations)
    needs_img_ids = False

    def predict_one(self, image_bgr: np.ndarray,
                    img_id: Optional[int]) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, images: Sequence[torch.Tensor],
                img_ids: Optional[Sequence[int]] = None) -> List[Dict[str, torch.Tensor]]:
        if img_ids is None:
            if self.needs_img_ids:
                raise ValueError(f'{type(self).__name__} takes its person boxes from the '
                                 'annotations: pass the images\' ids (img_ids=...)')
            img_ids = [None] * len(images)
        if len(img_ids) != len(images):
            raise ValueError(f'{len(images)} images but {len(img_ids)} image ids')
        return [self.predict_one(to_bgr_array(image), img_id)
                for image, img_id in zip(images, img_ids)]

    def detect(self, images: Sequence, img_ids: Sequence[int]) -> List[List[dict]]:
        """COCO result records for each image (RGB uint8 arrays or tensors, any size)."""
        tensors = [to_uint8_chw(image) for image in images]
        predictions = self(tensors, list(img_ids))
        return [predictions_to_records(img_id, prediction)
                for img_id, prediction in zip(img_ids, predictions)]
