"""A hook that draws restoration grids during validation: mosaic | restored | ground truth."""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from rdid_mm.registry import HOOKS
from rdid_mm.utils.boxes import box_to_slices


def to_uint8_hwc(img: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor in 0..255 -> (H, W, 3) uint8 array."""
    array = img.detach().float().clamp(0, 255).round().to(torch.uint8).cpu().numpy()
    array = np.transpose(array, (1, 2, 0))
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array)


def resize_to_height(img: np.ndarray, height: int, interpolation: int) -> np.ndarray:
    scale = height / img.shape[0]
    width = max(1, round(img.shape[1] * scale))
    return cv2.resize(img, (width, height), interpolation=interpolation)


def hstack_padded(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images of equal height side by side, separated by white gaps."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = []
    for img in images:
        parts += [img, spacer]
    return np.concatenate(parts[:-1], axis=1)


def vstack_padded(rows: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Rows stacked vertically, left-aligned, padded with white to the widest row."""
    width = max(row.shape[1] for row in rows)
    parts = []
    for row in rows:
        pad = np.full((row.shape[0], width - row.shape[1], 3), 255, np.uint8)
        parts += [np.concatenate([row, pad], axis=1), np.full((gap, width, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1], axis=0)


def restoration_grid(mosaic: np.ndarray, restored: np.ndarray, gt: np.ndarray,
                     face_boxes: Sequence[Sequence[float]], row_height: int = 256,
                     face_height: int = 160, max_faces: int = 4,
                     face_context: float = 0.25) -> np.ndarray:
    """One grid: the whole images in the first row, then each face box enlarged.

    Every row shows mosaic | restored | ground truth. Face crops are the box grown by
    ``face_context`` of its size on each side and enlarged with nearest-neighbour sampling, so the
    mosaic blocks stay visible.
    """
    rows = [hstack_padded(
        [resize_to_height(img, row_height, cv2.INTER_AREA) for img in (mosaic, restored, gt)])]
    height, width = mosaic.shape[:2]
    for box in list(face_boxes)[:max_faces]:
        x, y, w, h = (float(v) for v in box[:4])
        grown = [x - face_context * w, y - face_context * h,
                 w * (1 + 2 * face_context), h * (1 + 2 * face_context)]
        ys, xs = box_to_slices(grown, height, width)
        if ys.stop <= ys.start or xs.stop <= xs.start:
            continue
        rows.append(hstack_padded([
            resize_to_height(img[ys, xs], face_height, cv2.INTER_NEAREST)
            for img in (mosaic, restored, gt)
        ]))
    return vstack_padded(rows)


@HOOKS.register_module()
class RestorationVisHook(Hook):
    """Draw mosaic | restored | ground truth grids (face regions enlarged) during validation.

    The grids go to the runner's visualizer (``add_image``; mmagic's ``VisBackend`` writes
    ``<log_dir>/vis_data/vis_image/<name>_<iter>.png``), named ``restoration_<image stem>``.

    Args:
        interval: draw at every ``interval``-th validation run.
        max_samples: at most this many images per validation run.
        pred_key, input_key, gt_key: data sample fields (RGB, 0..255).
        row_height, face_height, max_faces: grid layout (see :func:`restoration_grid`).
        draw_on_test: draw during ``runner.test()`` too.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1, max_samples: int = 4, pred_key: str = 'fake_gt',
                 input_key: str = 'img_mosaic', gt_key: str = 'img_gt', row_height: int = 256,
                 face_height: int = 160, max_faces: int = 4, draw_on_test: bool = False):
        if interval < 1 or max_samples < 0:
            raise ValueError(f'interval must be >= 1 and max_samples >= 0, got {interval}, '
                             f'{max_samples}')
        self.interval = interval
        self.max_samples = max_samples
        self.keys = (input_key, pred_key, gt_key)
        self.layout = dict(row_height=row_height, face_height=face_height, max_faces=max_faces)
        self.draw_on_test = draw_on_test
        self._val_runs = 0
        self._drawn = 0
        self._warned = False

    def before_val_epoch(self, runner) -> None:
        self._val_runs += 1
        self._drawn = 0

    def before_test_epoch(self, runner) -> None:
        self._drawn = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        if (self._val_runs - 1) % self.interval == 0:
            self._draw(runner, outputs or [])

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.draw_on_test:
            self._draw(runner, outputs or [])

    def _draw(self, runner, outputs: Sequence) -> None:
        for sample in outputs:
            if self._drawn >= self.max_samples:
                return
            images = [sample.get(key) for key in self.keys]
            if any(not isinstance(img, torch.Tensor) for img in images):
                if not self._warned:
                    missing = [k for k, img in zip(self.keys, images)
                               if not isinstance(img, torch.Tensor)]
                    print_log(f'RestorationVisHook: samples lack {missing}; no grids drawn',
                              logger='current', level=30)
                    self._warned = True
                return
            mosaic, restored, gt = (to_uint8_hwc(img) for img in images)
            grid = restoration_grid(mosaic, restored, gt, sample.get('face_boxes', []),
                                    **self.layout)
            path = sample.get('mosaic_path') or sample.get('gt_path') or f'sample{self._drawn}'
            name = f'restoration_{osp.splitext(osp.basename(str(path)))[0]}'
            runner.visualizer.add_image(name, grid, step=runner.iter)
            self._drawn += 1
