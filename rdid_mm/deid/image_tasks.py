"""What the builder works on: one task per image, from a COCO json or from a folder of images.

A task is a small dict that can be sent to a worker: ``file_name`` (the key in ``faces.json``, the
path under ``gt/``), ``path``, ``image_id``, ``width``/``height`` (None for a folder), and
``annotations`` (the image's person annotations with only the fields the face sources and the audit
read).
"""
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional

from rdid_mm.utils.io import IMAGE_EXTENSIONS

PERSON_CATEGORY_ID = 1
ANNOTATION_FIELDS = ('id', 'bbox', 'keypoints', 'num_keypoints', 'iscrowd', 'face_box',
                     'face_valid')


class CocoPersonSource:
    """The images of a COCO json with their person annotations: every image (those without a
    person get an empty list, and a mosaic equal to the original unless a detector finds a face),
    or, with ``person_images_only``, the images with at least one person annotation.

    Args:
        ann_file: COCO (or COCO-WholeBody) json.
        img_dir: folder holding the images named by ``file_name``.
        wholebody_ann: COCO-WholeBody json whose ``face_box``/``face_valid`` are attached to the
            annotations with the same id.
        person_images_only: leave out the images without a person annotation.
    """

    def __init__(self, ann_file: str, img_dir: str, wholebody_ann: Optional[str] = None,
                 person_images_only: bool = False):
        self.ann_file = ann_file
        self.img_dir = img_dir
        self.coco = _load_json(ann_file)
        for key in ('images', 'annotations'):
            if not isinstance(self.coco.get(key), list):
                raise ValueError(f'{ann_file}: not a COCO annotation file (no "{key}" list)')
        image_ids = {img.get('id') for img in self.coco['images']}
        orphans = sorted({a.get('image_id') for a in self.coco['annotations']
                          if a.get('image_id') not in image_ids}, key=str)
        if orphans:
            # their faces would be left unpixelated: refuse rather than publish them
            raise ValueError(
                f'{ann_file}: annotations point at image ids that are not in its "images" list '
                f'({len(orphans)} ids, e.g. {orphans[:3]}): image and annotation ids do not match')
        self.annotations_by_image: Dict[int, List[dict]] = {}
        for ann in self.coco['annotations']:
            if ann.get('category_id', PERSON_CATEGORY_ID) == PERSON_CATEGORY_ID:
                self.annotations_by_image.setdefault(ann['image_id'], []).append(ann)
        with_person = [img for img in self.coco['images'] if img['id'] in self.annotations_by_image]
        self.images_without_person = len(self.coco['images']) - len(with_person)
        self.images = with_person if person_images_only else list(self.coco['images'])
        self.has_face_boxes = any('face_box' in a for a in self.coco['annotations'])
        if wholebody_ann is not None:
            self._attach_wholebody(wholebody_ann)
        names = [img['file_name'] for img in self.images]
        if len(set(names)) != len(names):
            raise ValueError(f'{ann_file}: several images share a file_name')

    def _attach_wholebody(self, wholebody_ann: str) -> None:
        wholebody = _load_json(wholebody_ann)
        faces = {a['id']: (a.get('face_box'), a.get('face_valid', False))
                 for a in wholebody.get('annotations', []) if 'face_box' in a}
        if not faces:
            raise ValueError(f'{wholebody_ann}: no COCO-WholeBody face_box annotations')
        del wholebody
        matched = 0
        for anns in self.annotations_by_image.values():
            for ann in anns:
                if ann['id'] in faces:
                    ann['face_box'], ann['face_valid'] = faces[ann['id']]
                    matched += 1
        if self.annotations_by_image and not matched:
            raise ValueError(f'{wholebody_ann}: none of its face_box annotation ids is an '
                             f'annotation id of {self.ann_file}: the two files do not match')
        self.has_face_boxes = True

    def __len__(self) -> int:
        return len(self.images)

    @property
    def file_names(self) -> List[str]:
        return [img['file_name'] for img in self.images]

    def __iter__(self) -> Iterator[dict]:
        for img in self.images:
            anns = [{k: a[k] for k in ANNOTATION_FIELDS if k in a}
                    for a in self.annotations_by_image.get(img['id'], [])]
            yield dict(file_name=img['file_name'], path=osp.join(self.img_dir, img['file_name']),
                       image_id=img['id'], width=img.get('width'), height=img.get('height'),
                       annotations=anns)

    def person_subset(self, image_ids) -> dict:
        """The COCO json restricted to ``image_ids`` and their person annotations (ids kept)."""
        image_ids = set(image_ids)
        subset = {k: v for k, v in self.coco.items() if k not in ('images', 'annotations',
                                                                   'categories')}
        subset['images'] = [img for img in self.images if img['id'] in image_ids]
        subset['annotations'] = [
            ann for img in subset['images'] for ann in self.annotations_by_image.get(img['id'], [])]
        subset['categories'] = [c for c in self.coco.get('categories', [])
                                if c.get('id') == PERSON_CATEGORY_ID]
        return subset


class FolderSource:
    """Every image file under a folder (recursively, sorted), without annotations."""

    def __init__(self, img_dir: str):
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'image folder not found: {img_dir}')
        self.img_dir = img_dir
        self.file_names = sorted(
            osp.relpath(osp.join(root, name), img_dir).replace(os.sep, '/')
            for root, dirs, names in os.walk(img_dir) for name in names
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith('.'))
        self.images_without_person = 0

    def __len__(self) -> int:
        return len(self.file_names)

    def __iter__(self) -> Iterator[dict]:
        for name in self.file_names:
            yield dict(file_name=name, path=osp.join(self.img_dir, name), image_id=None,
                       width=None, height=None, annotations=None)


def _load_json(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not valid json ({err})') from None
