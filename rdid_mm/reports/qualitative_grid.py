"""The qualitative grid (the paper's Fig. 2): Mosaic | models ... | GT, with the face enlarged.

Each chosen image is one row of panels: the whole image (face boxes outlined) above an
enlarged crop of its largest face (nearest-neighbour, so pixelation blocks stay visible).
Model columns read restored images from a folder (``tools/restore.py --out``,
``tools/test.py --out`` or the table's cache; see :func:`restored_path`).
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from rdid_mm.layout import DeidLayout
from rdid_mm.layout import restored_path as layout_restored_path
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb, write_image

LABEL_HEIGHT = 28
GAP = 6
BOX_COLOUR = (255, 64, 64)


def restored_path(folder: str, file_name: str, strength: int) -> str:
    """The restored image of ``file_name``: ``<folder>/<stem>.png`` (tools/restore.py) or
    ``<folder>/images/s{S}/<stem>.png`` (tools/test.py --out, the table's cache)."""
    candidates = [layout_restored_path(folder, file_name),
                  layout_restored_path(osp.join(folder, 'images', f's{int(strength)}'), file_name)]
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'no restored image for {file_name} in {folder} '
                            f'(looked for {" and ".join(candidates)})')


def _zoom_box(box: Sequence[float], margin: float, height: int, width: int) -> List[float]:
    """A square around the face, ``margin`` of its size on each side, moved inside the image."""
    x, y, w, h = box[:4]
    side = min(max(w, h) * (1 + 2 * margin), height, width)
    left = min(max(0.0, x + w / 2 - side / 2), width - side)
    top = min(max(0.0, y + h / 2 - side / 2), height - side)
    return [left, top, side, side]


def _panel(image: np.ndarray, boxes, zoom_box, height: int, zoom_size: int) -> np.ndarray:
    scale = height / image.shape[0]
    full = cv2.resize(image, (max(1, round(image.shape[1] * scale)), height),
                      interpolation=cv2.INTER_AREA)
    for box in boxes:
        x, y, w, h = (round(v * scale) for v in box[:4])
        cv2.rectangle(full, (x, y), (x + w, y + h), BOX_COLOUR, 1)
    rows, cols = box_to_slices(zoom_box, *image.shape[:2])
    zoom = cv2.resize(image[rows, cols], (zoom_size, zoom_size), interpolation=cv2.INTER_NEAREST)
    width = max(full.shape[1], zoom_size)
    canvas = np.full((height + GAP + zoom_size, width, 3), 255, np.uint8)
    canvas[:height, :full.shape[1]] = full
    left = (width - zoom_size) // 2
    canvas[height + GAP:, left:left + zoom_size] = zoom
    return canvas


def label_strip(text: str, width: int) -> np.ndarray:
    strip = np.full((LABEL_HEIGHT, width, 3), 255, np.uint8)
    (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    cv2.putText(strip, text, (max(0, (width - text_w) // 2), LABEL_HEIGHT - 9),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def hstack_panels(panels: Sequence[np.ndarray]) -> np.ndarray:
    height = max(p.shape[0] for p in panels)
    padded = []
    for panel in panels:
        canvas = np.full((height, panel.shape[1], 3), 255, np.uint8)
        canvas[:panel.shape[0]] = panel
        padded += [canvas, np.full((height, GAP, 3), 255, np.uint8)]
    return np.concatenate(padded[:-1], axis=1)


def vstack_rows(rows: Sequence[np.ndarray]) -> np.ndarray:
    width = max(r.shape[1] for r in rows)
    padded = []
    for row in rows:
        canvas = np.full((row.shape[0], width, 3), 255, np.uint8)
        canvas[:, :row.shape[1]] = row
        padded += [canvas, np.full((GAP, width, 3), 255, np.uint8)]
    return np.concatenate(padded[:-1], axis=0)


def make_qualitative_grid(deid_root: str, strength: int, columns: Sequence[Tuple[str, str]],
                          out_file: str, img_ids: Optional[Sequence[int]] = None,
                          max_images: int = 4, gt_dir: Optional[str] = None,
                          panel_height: int = 240, zoom_size: int = 160,
                          zoom_margin: float = 0.5) -> str:
    """Write the grid PNG; ``columns`` are (label, restored-image folder) between Mosaic and GT.

    ``img_ids`` picks the images (default: the first ``max_images`` with a face box).
    """
    layout = DeidLayout.existing(deid_root, gt_dir=gt_dir)
    faces = layout.faces()
    by_id = {image['id']: image for image in layout.images()}
    if img_ids:
        unknown = [i for i in img_ids if i not in by_id]
        if unknown:
            raise ValueError(f'image id(s) {unknown} are not in {layout.ann_file}')
        chosen = [by_id[i] for i in img_ids]
    else:
        chosen = [im for im in by_id.values() if faces.get(im['file_name'])][:max_images]
    if not chosen:
        raise ValueError(f'{layout.faces_file}: no image with a face box to show')
    labels = ['Mosaic'] + [label for label, _ in columns] + ['GT']
    rows = []
    for image in chosen:
        name = image['file_name']
        boxes = faces.get(name) or []
        if not boxes:
            raise ValueError(f'image {image["id"]} ({name}) has no face box in {layout.faces_file}')
        largest = max(boxes, key=lambda b: b[2] * b[3])
        paths = [layout.mosaic(name, strength)] + [
            restored_path(folder, name, strength) for _, folder in columns] + [layout.gt(name)]
        pictures = [read_rgb(p) for p in paths]
        for path, picture in zip(paths, pictures):
            if picture.shape != pictures[-1].shape:
                raise ValueError(f'{path} is {picture.shape[:2]} but the original is '
                                 f'{pictures[-1].shape[:2]} (H, W)')
        zoom_box = _zoom_box(largest, zoom_margin, *pictures[-1].shape[:2])
        panels = [_panel(p, boxes, zoom_box, panel_height, zoom_size) for p in pictures]
        header = hstack_panels([label_strip(label, p.shape[1]) for label, p in zip(labels, panels)])
        rows.append(np.concatenate([header, hstack_panels(panels)], axis=0))
    write_image(vstack_rows(rows), out_file)
    return out_file
