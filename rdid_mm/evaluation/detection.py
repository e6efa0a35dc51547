"""Images in, COCO result records out: the detector's input format and its output conversion.

The detector (torchvision's Keypoint R-CNN) takes RGB float images in [0, 1], ``3 x H x W``, at
their original size; it resizes and normalises them itself and maps its boxes and keypoints back
to the original pixel coordinates. Its results are written as torchvision's reference evaluation
writes them: ``bbox`` as ``[x, y, w, h]``, ``keypoints`` as 17 ``(x, y, v)`` triplets, ``score``,
and the label as COCO ``category_id`` (1: person).
"""
from typing import Dict, List, Sequence, Union

import numpy as np
import torch

COORD_DECIMALS = 3  # sub-pixel rounding keeps result files small; IoU and OKS do not notice


def resolve_device(device: str = 'auto') -> torch.device:
    """``'auto'``: this process's GPU when there is one, else the CPU."""
    if device != 'auto':
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device('cuda', torch.cuda.current_device())
    return torch.device('cpu')


def to_uint8_chw(image: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """An RGB image as a ``3 x H x W`` uint8 tensor (on the image's device).

    Accepts ``H x W x 3`` uint8 arrays (decoded files) and ``3 x H x W`` tensors, uint8 or float in
    0..255 (model outputs; rounded, as they would be when saved as PNG).
    """
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'expected an H x W x 3 uint8 RGB array, got {image.shape} '
                             f'{image.dtype}')
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if hasattr(image, 'shape') else type(image).__name__
        raise ValueError(f'expected a 3 x H x W RGB tensor (0..255), got {shape}')
    if image.dtype == torch.uint8:
        return image
    return image.detach().float().clamp(0, 255).round().to(torch.uint8)


def to_detector_input(image_uint8: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``3 x H x W`` uint8 RGB -> float RGB in [0, 1] on ``device``: what the detector takes."""
    return image_uint8.to(device, non_blocking=True).float().div_(255.0)


@torch.no_grad()
def run_detector(detector, images: Sequence[torch.Tensor], batch_size: int = 0) -> List[dict]:
    """Run the detector on images of any sizes, ``batch_size`` at a time (0: all at once)."""
    step = batch_size or len(images)
    outputs = []
    for start in range(0, len(images), step):
        for out in detector(list(images[start:start + step])):
            outputs.append({k: v.detach().cpu() for k, v in out.items()})
    return outputs


def _round(values: torch.Tensor) -> List[float]:
    return [round(float(v), COORD_DECIMALS) for v in values]


def predictions_to_records(img_id: int, prediction: Dict[str, torch.Tensor]) -> List[dict]:
    """One image's detector output as COCO result records (box and keypoints in each)."""
    boxes = prediction['boxes'].float()
    xywh = torch.cat([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], dim=1)
    keypoints = prediction.get('keypoints')
    records = []
    for index in range(len(boxes)):
        record = {
            'image_id': int(img_id),
            'category_id': int(prediction['labels'][index]),
            'bbox': _round(xywh[index]),
            'score': float(prediction['scores'][index]),
        }
        if keypoints is not None:
            record['keypoints'] = _round(keypoints[index].float().flatten())
        records.append(record)
    return records
