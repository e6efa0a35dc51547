"""Where everything lives in the builder's output folder, and the settings a folder was built with.

    OUT/gt/<file_name>                     original file, byte-identical (absent with publish)
    OUT/mosaic/s{S}/<stem>.png             pixelated at strength S (.jpg with a JPEG quality)
    OUT/annotations/person_keypoints.json  COCO person subset (COCO input only)
    OUT/faces.json                         {file_name: [[x, y, w, h, score, source], ...]}
    OUT/summary.json                       counts, skips with reasons, missed-face audit
    OUT/.deid_state/                       resume state: settings, a record per image, staging
"""
import hashlib
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

STATE_DIR = '.deid_state'


@dataclass(frozen=True)
class BuildSettings:
    """Everything that decides the content of the outputs (a resumed run must use the same)."""
    strengths: Tuple[int, ...]
    face_sources: Tuple = ()
    margin: float = 0.1
    publish: bool = False
    jpeg_quality: Optional[int] = None
    require_all_faces: bool = False
    audit_min_coverage: float = 0.5
    input_kind: str = 'coco'

    def to_json(self) -> dict:
        data = asdict(self)
        data['strengths'] = list(self.strengths)
        data['face_sources'] = [s if isinstance(s, str) else dict(s) for s in self.face_sources]
        return data


class OutputLayout:
    """Paths under one output folder."""

    def __init__(self, out_dir: str, jpeg_quality: Optional[int] = None):
        self.root = out_dir
        self.mosaic_ext = '.png' if jpeg_quality is None else '.jpg'

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

    @property
    def faces_file(self) -> str:
        return osp.join(self.root, 'faces.json')

    @property
    def summary_file(self) -> str:
        return osp.join(self.root, 'summary.json')

    @property
    def annotations_file(self) -> str:
        return osp.join(self.root, 'annotations', 'person_keypoints.json')

    def gt(self, file_name: str) -> str:
        return osp.join(self.root, 'gt', file_name)

    def mosaic_dir(self, strength: int) -> str:
        return osp.join(self.root, 'mosaic', f's{strength}')

    def mosaic(self, file_name: str, strength: int, ext: Optional[str] = None) -> str:
        stem = osp.splitext(file_name)[0]
        return osp.join(self.mosaic_dir(strength), stem + (ext or self.mosaic_ext))

    def record(self, file_name: str) -> str:
        """The image's record, named by a hash of its ``file_name`` (any name is a safe path)."""
        key = hashlib.sha1(file_name.encode('utf-8')).hexdigest()
        return osp.join(self.state_dir, 'records', key[:2], key + '.json')


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
        stem = osp.splitext(name)[0]
        if stem in stems:
            problems[name] = ('name_collision', f'its mosaic would overwrite that of {stems[stem]}')
        else:
            stems[stem] = name
    return problems
