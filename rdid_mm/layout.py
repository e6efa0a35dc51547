"""The one definition of where the files of a de-identified dataset live.

    ROOT/gt/<file_name>                       the original file, byte-identical (absent: publish)
    ROOT/mosaic/s{S}/<stem>.png               pixelated at strength S (.jpg: built with a JPEG
                                              quality); <stem> is <file_name> without its extension,
                                              sub-folders kept
    ROOT/annotations/person_keypoints.json    COCO json of every image (person annotations)
    ROOT/annotations/splits/<name>.json       a held-out split's own COCO json (the validation
                                              images), written once by the paired dataset
    ROOT/faces.json                           {file_name: [[x, y, w, h, score, source], ...]}
    ROOT/summary.json                         counts, skips with reasons, the build settings
    ROOT/.deid_state/                         resume state: settings, a record per image, staging
    <restored folder>/<stem>.png              a model's output for <file_name> (restore, test)

The builder writes these paths, and the paired dataset, the evaluation tables and the restore tools
read them through this class, so nested sub-folders and PNG or JPEG mosaics mean the same thing to
all of them.
"""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional

STATE_DIR = '.deid_state'
ANN_FILE = osp.join('annotations', 'person_keypoints.json')
MOSAIC_EXTENSIONS = ('.png', '.jpg')
RESTORED_EXTENSION = '.png'


def mosaic_extension(jpeg_quality: Optional[int]) -> str:
    """``.png`` (lossless) or ``.jpg`` (built with a JPEG quality)."""
    return MOSAIC_EXTENSIONS[0] if jpeg_quality is None else MOSAIC_EXTENSIONS[1]


def image_stem(file_name: str) -> str:
    """``file_name`` without its extension, sub-folders kept (``a/b/c.jpg`` -> ``a/b/c``)."""
    return osp.splitext(file_name.replace('\\', '/'))[0]


def restored_path(folder: str, file_name: str) -> str:
    """Where a restored image of ``file_name`` lives in a folder of restored images."""
    return osp.join(folder, image_stem(file_name) + RESTORED_EXTENSION)


class DeidLayout:
    """Paths under one de-identified dataset folder.

    Args:
        root: the folder.
        mosaic_ext: ``.png`` or ``.jpg``; default: the build settings recorded in the folder,
            else whichever file exists.
        gt_dir, ann_file: override ``ROOT/gt`` and ``ROOT/annotations/person_keypoints.json``
            (a dataset built with publish has no ``gt/``).
    """

    def __init__(self, root: str, mosaic_ext: Optional[str] = None, gt_dir: Optional[str] = None,
                 ann_file: Optional[str] = None):
        self.root = os.fspath(root)
        if mosaic_ext is not None and mosaic_ext not in MOSAIC_EXTENSIONS:
            raise ValueError(f'mosaic_ext must be one of {MOSAIC_EXTENSIONS}, got {mosaic_ext!r}')
        self._mosaic_ext = mosaic_ext
        self.gt_dir = gt_dir or osp.join(self.root, 'gt')
        self.ann_file = ann_file or osp.join(self.root, ANN_FILE)
        self._images = None
        self._faces = None

    @classmethod
    def existing(cls, root: str, gt_dir: Optional[str] = None,
                 ann_file: Optional[str] = None) -> 'DeidLayout':
        """The layout of a folder that must exist with its annotation file."""
        if not osp.isdir(root):
            raise FileNotFoundError(f'de-identified dataset folder not found: {root}')
        layout = cls(root, gt_dir=gt_dir, ann_file=ann_file)
        if not osp.isfile(layout.ann_file):
            raise FileNotFoundError(f'annotation file not found: {layout.ann_file}')
        return layout

    # ------------------------------------------------------------------ builder state
    @property
    def state_dir(self) -> str:
        return osp.join(self.root, STATE_DIR)

    @property
    def tmp_dir(self) -> str:
        return osp.join(self.state_dir, 'tmp')

    @property
    def settings_file(self) -> str:
        return osp.join(self.state_dir, 'settings.json')

    @property
    def lock_file(self) -> str:
        return osp.join(self.state_dir, 'lock')

    def record(self, file_name: str) -> str:
        """The image's record, named by a hash of its ``file_name`` (any name is a safe path)."""
        key = hashlib.sha1(file_name.encode('utf-8')).hexdigest()
        return osp.join(self.state_dir, 'records', key[:2], key + '.json')

    # ------------------------------------------------------------------ outputs
    @property
    def faces_file(self) -> str:
        return osp.join(self.root, 'faces.json')

    @property
    def summary_file(self) -> str:
        return osp.join(self.root, 'summary.json')

    @property
    def annotations_file(self) -> str:
        return self.ann_file

    @property
    def splits_dir(self) -> str:
        return osp.join(self.root, 'annotations', 'splits')

    def gt(self, file_name: str) -> str:
        return osp.join(self.gt_dir, file_name)

    def mosaic_dir(self, strength: int) -> str:
        return osp.join(self.root, 'mosaic', f's{int(strength)}')

    @property
    def mosaic_ext(self) -> Optional[str]:
        """The extension recorded with the build (None: not recorded; files are probed)."""
        if self._mosaic_ext is None:
            for path in (self.settings_file, self.summary_file):
                settings = _read_json(path)
                settings = settings.get('settings', settings) if isinstance(settings, dict) else {}
                if isinstance(settings, dict) and 'jpeg_quality' in settings:
                    self._mosaic_ext = mosaic_extension(settings['jpeg_quality'])
                    break
        return self._mosaic_ext

    def mosaic(self, file_name: str, strength: int, ext: Optional[str] = None) -> str:
        """``mosaic/s{S}/<stem><ext>``; without a recorded extension, the file that exists."""
        base = osp.join(self.mosaic_dir(strength), image_stem(file_name))
        ext = ext or self.mosaic_ext
        if ext is None:
            ext = next((e for e in MOSAIC_EXTENSIONS if osp.isfile(base + e)),
                       MOSAIC_EXTENSIONS[0])
        return base + ext

    # ------------------------------------------------------------------ reading
    def images(self) -> List[dict]:
        """The annotation file's images (id, file_name, width, height), sorted by id."""
        if self._images is None:
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
            data = _read_json(self.ann_file)
            if not isinstance(data, dict) or not isinstance(data.get('images'), list):
                raise ValueError(f'{self.ann_file}: not a COCO annotation file (no "images" list)')
            self._images = sorted(data['images'], key=lambda im: im['id'])
        return self._images

    def faces(self) -> Dict[str, list]:
        if self._faces is None:
            if not osp.isfile(self.faces_file):
                raise FileNotFoundError(f'faces file not found: {self.faces_file}')
            faces = _read_json(self.faces_file)
            if not isinstance(faces, dict):
                raise ValueError(f'{self.faces_file}: expected {{file_name: [[x, y, w, h, ...], '
                                 f'...]}}, got {type(faces).__name__}')
            self._faces = faces
        return self._faces

    def strengths(self) -> List[int]:
        """Strengths that have a mosaic folder."""
        folder = osp.join(self.root, 'mosaic')
        if not osp.isdir(folder):
            return []
        found = [re.fullmatch(r's(\d+)', name) for name in os.listdir(folder)]
        return sorted(int(m.group(1)) for m in found if m)

    def samples(self, strength: Optional[int] = None) -> List[dict]:
        """One dict per image of the annotation file, shaped like a model's data sample."""
        faces = self.faces() if osp.isfile(self.faces_file) else {}
        samples = []
        for image in self.images():
            name = image['file_name']
            sample = dict(img_id=image['id'], ori_shape=(image['height'], image['width']),
                          file_name=name, gt_path=self.gt(name),
                          face_boxes=[box[:4] for box in faces.get(name, [])])
            if strength is not None:
                sample['mosaic_path'] = self.mosaic(name, strength)
                sample['strength'] = int(strength)
            samples.append(sample)
        return samples

    def check_files(self, samples: List[dict], key: str) -> None:
        """Fail early, naming the first missing files, before any detector time is spent."""
        missing = [s[key] for s in samples if not osp.isfile(s[key])]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of {len(samples)} images listed in {self.ann_file} are missing '
                f'(e.g. {missing[:3]}); see {self.summary_file} for images the builder skipped')


def output_name_problems(file_names) -> dict:
    """``{file_name: (reason, detail)}`` for names that cannot get outputs of their own.

    ``unsafe_file_name``: absolute, or climbing out of the folder with ``..``.
    ``name_collision``: another file with the same name up to the extension came first, and the
    mosaics are named by stem.
    """
    problems, stems = {}, {}
    for name in file_names:
        parts = name.replace('\\', '/').split('/')
        if osp.isabs(name) or '..' in parts or not name:
            problems[name] = ('unsafe_file_name', 'absolute or outside the image folder')
            continue
        stem = image_stem(name)
        if stem in stems:
            problems[name] = ('name_collision', f'its mosaic would overwrite that of {stems[stem]}')
        else:
            stems[stem] = name
    return problems


def _read_json(path: str):
    if not osp.isfile(path):
        if path.endswith(('settings.json', 'summary.json')):
            return {}
        raise FileNotFoundError(f'file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not valid json ({err})') from None
