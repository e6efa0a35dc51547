"""What a restore run reads and writes: the items of a folder, an image, a video or a COCO json,
each with the name its output gets.

Names are relative to the input (``cam1/a.jpg``), so no input path leaves the machine with the
outputs; an image becomes ``OUT/<relative stem>.png``, a video ``OUT/<relative stem>.mp4`` (or
``.mkv`` with FFV1).
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional

from rdid_mm.utils.io import IMAGE_EXTENSIONS

from .restore_video import CODECS, is_video


class RestoreInputError(ValueError):
    """A problem with the command's inputs that stops the run (one line, names the file)."""


@dataclass(frozen=True)
class Item:
    """One image or video to restore: ``name`` relative to the input, ``path`` on disk and
    ``output`` relative to the output folder."""
    name: str
    path: str
    output: str

    @property
    def is_video(self) -> bool:
        return is_video(self.name)


def output_name(name: str, codec: str) -> str:
    """``a/b.jpg`` -> ``a/b.png``; a video gets its codec's container."""
    stem = osp.splitext(name)[0]
    return stem + (CODECS[codec][1] if is_video(name) else '.png')


def list_files(input_path: str) -> List[str]:
    """Relative names of the images and videos under ``input_path`` (sorted, hidden ones left
    out), or the file's own name."""
    if osp.isfile(input_path):
        return [osp.basename(input_path)]
    if not osp.isdir(input_path):
        raise RestoreInputError(f'{input_path}: no such file or folder')
    names = []
    for root, dirs, files in os.walk(input_path):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if not name.startswith('.') and (name.lower().endswith(IMAGE_EXTENSIONS)
                                             or is_video(name)):
                names.append(osp.relpath(osp.join(root, name), input_path).replace(os.sep, '/'))
    return names


def read_coco(ann_file: str) -> dict:
    """A COCO json whose every image has a ``file_name`` (else a one-line error)."""
    try:
        with open(ann_file, encoding='utf-8') as f:
            coco = json.load(f)
        missing = [i for i, img in enumerate(coco['images']) if 'file_name' not in img]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise RestoreInputError(f'{ann_file}: not a readable COCO json ({err})') from None
    if missing:
        raise RestoreInputError(f'{ann_file}: image {missing[0]} has no file_name')
    return coco


def list_items(input_path: str, codec: str, coco: Optional[dict] = None) -> List[Item]:
    """The items of ``input_path``: every file under it, or the images a COCO json lists (their
    ``file_name`` relative to ``input_path``)."""
    if coco is not None:
        names = [img['file_name'] for img in coco['images']]
    else:
        names = list_files(input_path)
    folder = input_path if osp.isdir(input_path) else osp.dirname(input_path)
    items = [Item(name, osp.join(folder, name), output_name(name, codec)) for name in names]
    if not items:
        raise RestoreInputError(f'{input_path}: no images or videos found')
    return items


def check_output_folder(input_path: str, out_dir: str) -> None:
    """Refuse an output folder that is the input or inside it: a restore never writes over what
    it reads."""
    real_in, real_out = osp.realpath(input_path), osp.realpath(out_dir)
    if real_out == real_in or (osp.isdir(real_in) and real_out.startswith(real_in + os.sep)):
        raise RestoreInputError(f'--out {out_dir} must not be the input or inside it')
