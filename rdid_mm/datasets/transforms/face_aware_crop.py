"""A crop of the same window from paired images, containing a face box."""
import math
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from rdid_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class FaceAwareCrop(BaseTransform):
    """Crop ``crop_size`` at native resolution, the same window in every image of ``keys``.

    The window contains a face box drawn at random from ``results[boxes_key]`` ([x, y, w, h])
    entirely when the box fits in the window, and is centred on it otherwise; its position is
    otherwise uniform. An image smaller than the crop is first padded at the bottom and right by
    reflection. With no face box the window is uniform over the image.

    Updated keys: the images, ``boxes_key`` (the boxes shifted into the crop and clipped, empty
    ones dropped), ``img_shape``; added: ``crop_bbox`` ([x, y, w, h] of the window in the
    original image).

    Args:
        keys: image keys (``H x W x C`` arrays of the same size).
        crop_size: (height, width) of the window, or one int for both.
        boxes_key: key of the face boxes.
    """

    def __init__(self, keys: Sequence[str] = ('img_mosaic', 'img_gt'),
                 crop_size: Union[int, Tuple[int, int]] = (256, 256),
                 boxes_key: str = 'face_boxes'):
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        if len(crop_size) != 2 or min(crop_size) < 1:
            raise ValueError(f'crop_size must be (height, width) > 0, got {crop_size}')
        self.keys = tuple(keys)
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.boxes_key = boxes_key

    @staticmethod
    def _window_start(box_start: float, box_end: float, size: int, crop: int) -> int:
        """A random start in [0, size - crop] whose window covers [box_start, box_end)."""
        low = max(0, math.ceil(box_end) - crop)
        high = min(math.floor(box_start), size - crop)
        if low <= high:
            return int(np.random.randint(low, high + 1))
        centre = (box_start + box_end) / 2
        return int(min(max(round(centre - crop / 2), 0), size - crop))

    def transform(self, results: dict) -> dict:
        crop_h, crop_w = self.crop_size
        height, width = results[self.keys[0]].shape[:2]
        for key in self.keys[1:]:
            if results[key].shape[:2] != (height, width):
                raise ValueError(f'{key} is {results[key].shape[:2]}, {self.keys[0]} is '
                                 f'{(height, width)}: paired images must have the same size')
        pad_h, pad_w = max(0, crop_h - height), max(0, crop_w - width)
        if pad_h or pad_w:
            for key in self.keys:
                results[key] = cv2.copyMakeBorder(
                    results[key], 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
                if results[key].ndim == 2:
                    results[key] = results[key][..., None]
            height, width = height + pad_h, width + pad_w

        boxes = [list(map(float, box[:4])) for box in results.get(self.boxes_key, [])]
        boxes = [b for b in boxes if b[2] > 0 and b[3] > 0 and b[0] < width and b[1] < height
                 and b[0] + b[2] > 0 and b[1] + b[3] > 0]
        if boxes:
            x, y, w, h = boxes[np.random.randint(len(boxes))]
            top = self._window_start(y, y + h, height, crop_h)
            left = self._window_start(x, x + w, width, crop_w)
        else:
            top = int(np.random.randint(height - crop_h + 1))
            left = int(np.random.randint(width - crop_w + 1))

        for key in self.keys:
            results[key] = np.ascontiguousarray(
                results[key][top:top + crop_h, left:left + crop_w])
        results[self.boxes_key] = self._shift_boxes(boxes, left, top, crop_w, crop_h)
        results['crop_bbox'] = [left, top, crop_w, crop_h]
        results['img_shape'] = (crop_h, crop_w)
        return results

    @staticmethod
    def _shift_boxes(boxes, left, top, crop_w, crop_h):
        shifted = []
        for x, y, w, h in boxes:
            x0, y0 = max(x - left, 0.0), max(y - top, 0.0)
            x1, y1 = min(x + w - left, float(crop_w)), min(y + h - top, float(crop_h))
            if x1 > x0 and y1 > y0:
                shifted.append([x0, y0, x1 - x0, y1 - y0])
        return shifted

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, crop_size={self.crop_size}, '
                f'boxes_key={self.boxes_key!r})')
