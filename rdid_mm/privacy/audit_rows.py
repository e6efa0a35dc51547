"""What the audit compares: the rows (original, mosaics, restorations) and the faces in them.

A row names, for every image of a de-identified dataset, the file whose faces are embedded::

    original            OUT/gt/<file_name>            (the upper bound: the originals themselves)
    mosaic:s8           OUT/mosaic/s8/<stem>.png|.jpg
    restored:NAME=DIR   DIR/<stem>.png|.jpg           (what tools/restore.py writes)

Faces are the boxes of ``faces.json``; those smaller than the embedder's ``min_face_size`` are
counted and left out, since no face model says anything about a face of a few pixels.
"""
import os.path as osp
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from rdid_mm.layout import DeidLayout

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')


@dataclass(frozen=True)
class Face:
    """One face box of the dataset: [x, y, w, h] in the original's pixels."""
    file_name: str
    img_id: int
    index: int  # position in faces.json's list for the image
    box: tuple
    size: float  # sqrt(w * h)


@dataclass
class Row:
    """A named set of images, one per original (``path_for(file_name)`` -> path or None)."""
    name: str
    kind: str  # 'original', 'mosaic', 'restored'
    path_for: Callable[[str], Optional[str]]
    strength: Optional[int] = None


def _first_existing(folder: str, file_name: str) -> Optional[str]:
    stem = osp.splitext(file_name)[0]
    for candidate in [osp.join(folder, stem + ext) for ext in IMAGE_EXTENSIONS] + [
            osp.join(folder, file_name), osp.join(folder, osp.basename(stem) + '.png')]:
        if osp.isfile(candidate):
            return candidate
    return None


def parse_row(spec: str, layout: DeidLayout) -> Row:
    """A row from ``original``, ``mosaic:sS`` or ``restored:NAME=DIR``; ValueError otherwise."""
    if spec == 'original':
        return Row('original', 'original',
                   lambda name: layout.gt(name) if osp.isfile(layout.gt(name)) else None)
    found = re.fullmatch(r'mosaic:s?(\d+)', spec)
    if found:
        strength = int(found.group(1))
        folder = layout.mosaic_dir(strength)
        if not osp.isdir(folder):
            raise ValueError(
                f'row {spec!r}: no mosaics at strength {strength}: {folder} is missing')
        return Row(f'mosaic s{strength}', 'mosaic', lambda name: _first_existing(folder, name),
                   strength)
    found = re.fullmatch(r'restored:([^=]+)=(.+)', spec)
    if found:
        name, folder = found.group(1), found.group(2)
        if not osp.isdir(folder):
            raise ValueError(f'row {spec!r}: folder not found: {folder}')
        return Row(name, 'restored', lambda file_name: _first_existing(folder, file_name))
    raise ValueError(f'row {spec!r}: expected original, mosaic:sS or restored:NAME=DIR')


def dataset_faces(layout: DeidLayout, min_face_size: float) -> Dict[str, List[Face]]:
    """``{'embeddable': [...], 'too_small': [...]}``: the faces of every annotated image."""
    faces = layout.faces()
    embeddable, too_small = [], []
    for image in layout.images():
        for index, box in enumerate(faces.get(image['file_name'], [])):
            if not isinstance(box, (list, tuple)) or len(box) < 4:
                raise ValueError(f'{layout.faces_file}: face box of {image["file_name"]} is not '
                                 f'[x, y, w, h, ...]: {box!r}')
            x, y, w, h = (float(v) for v in box[:4])
            face = Face(image['file_name'], int(image['id']), index, (x, y, w, h),
                        float(max(w, 0) * max(h, 0)) ** 0.5)
            (embeddable if face.size >= min_face_size else too_small).append(face)
    return {'embeddable': embeddable, 'too_small': too_small}
