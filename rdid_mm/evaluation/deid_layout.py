"""Where the de-identification builder put things (``rdid_mm.deid.build_deid_dataset``)::

    OUT/gt/<file_name>                     original images (absent when built with --publish)
    OUT/mosaic/s{S}/<stem>.png             pixelated at strength S
    OUT/annotations/person_keypoints.json  COCO person-keypoint annotations (ids kept)
    OUT/faces.json                         {file_name: [[x, y, w, h, score, source], ...]}
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional

ANN_FILE = osp.join('annotations', 'person_keypoints.json')


class DeidLayout:
    """Paths of one builder output folder; ``gt_dir``/``ann_file`` override the defaults."""

    def __init__(self, root: str, gt_dir: Optional[str] = None, ann_file: Optional[str] = None):
        if not osp.isdir(root):
            raise FileNotFoundError(f'de-identified dataset folder not found: {root}')
        self.root = root
        self.gt_dir = gt_dir or osp.join(root, 'gt')
        self.ann_file = ann_file or osp.join(root, ANN_FILE)
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
        self._images = None
        self._faces = None

    @property
    def faces_file(self) -> str:
        return osp.join(self.root, 'faces.json')

    def images(self) -> List[dict]:
        """The annotation file's images (id, file_name, width, height), sorted by id."""
        if self._images is None:
            with open(self.ann_file) as f:
                self._images = sorted(json.load(f)['images'], key=lambda im: im['id'])
        return self._images

    def faces(self) -> Dict[str, list]:
        if self._faces is None:
            if not osp.isfile(self.faces_file):
                raise FileNotFoundError(f'faces file not found: {self.faces_file}')
            with open(self.faces_file) as f:
                self._faces = json.load(f)
        return self._faces

    def strengths(self) -> List[int]:
        """Strengths that have a mosaic folder."""
        folder = osp.join(self.root, 'mosaic')
        if not osp.isdir(folder):
            return []
        found = [re.fullmatch(r's(\d+)', name) for name in os.listdir(folder)]
        return sorted(int(m.group(1)) for m in found if m)

    def gt_path(self, file_name: str) -> str:
        return osp.join(self.gt_dir, file_name)

    def mosaic_dir(self, strength: int) -> str:
        return osp.join(self.root, 'mosaic', f's{int(strength)}')

    def mosaic_path(self, file_name: str, strength: int) -> str:
        return osp.join(self.mosaic_dir(strength), osp.splitext(file_name)[0] + '.png')

    def samples(self, strength: Optional[int] = None) -> List[dict]:
        """One dict per image, shaped like a model's data sample (metainfo only)."""
        samples = []
        faces = self.faces() if osp.isfile(self.faces_file) else {}
        for image in self.images():
            sample = dict(img_id=image['id'], ori_shape=(image['height'], image['width']),
                          gt_path=self.gt_path(image['file_name']),
                          face_boxes=[box[:4] for box in faces.get(image['file_name'], [])])
            if strength is not None:
                sample['mosaic_path'] = self.mosaic_path(image['file_name'], strength)
                sample['strength'] = int(strength)
            samples.append(sample)
        return samples

    def check_files(self, samples: List[dict], key: str) -> None:
        """Fail early, naming the first missing files, before any detector time is spent."""
        missing = [s[key] for s in samples if not osp.isfile(s[key])]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of {len(samples)} images listed in {self.ann_file} are missing '
                f'(e.g. {missing[:3]}); see {osp.join(self.root, "summary.json")} for images the '
                'builder skipped')
