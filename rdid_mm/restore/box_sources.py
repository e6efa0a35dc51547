"""Where the boxes to restore come from: a boxes file, the builder's ``faces.json``, the mosaic
localiser, or none (whole-image mode).

Every source answers ``boxes(key, image)`` with ``[[x, y, w, h], ...]`` in pixels, where ``key`` is
an item's relative name, or ``<video name>#<frame index, 6 digits>`` for a video frame.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from rdid_mm.layout import DeidLayout, image_stem

from .items import RestoreInputError
from .localiser import locate_mosaics
from .restore_video import is_video
from .strided_localiser import NETWORK_EVERY, StridedLocaliser


def frame_key(video_name: str, index: int) -> str:
    return f'{video_name}#{index:06d}'


def split_frame_key(key: str) -> Optional[Tuple[str, int]]:
    """``(video name, frame index)`` of a :func:`frame_key`; ``None`` for an image's name (which
    may hold a ``#`` too: ``party#1.jpg``)."""
    video, sep, index = key.rpartition('#')
    return (video, int(index)) if sep and index.isdigit() and is_video(video) else None


class BoxesFile:
    """``{relative_path or video#000123: [[x, y, w, h, ...], ...]}``, e.g. from
    ``tools/locate_mosaics.py``."""
    label = 'boxes_file'

    def __init__(self, path: str):
        try:
            with open(path, encoding='utf-8') as f:
                boxes = json.load(f)
        except (OSError, ValueError) as err:
            raise RestoreInputError(f'{path}: not a readable boxes json ({err})') from None
        if not isinstance(boxes, dict) or not all(isinstance(v, list) for v in boxes.values()):
            raise RestoreInputError(f'{path}: expected {{relative_path: [[x, y, w, h, ...], ...]}}')
        self.path, self.by_key = path, boxes

    def boxes(self, key: str, image: np.ndarray) -> List[list]:
        return [list(b[:4]) for b in self.by_key.get(key, [])]

    def unmatched(self, names) -> List[str]:
        """Keys that name no input (a typo, or boxes of another folder)."""
        names = set(names)
        return sorted(k for k in self.by_key if (split_frame_key(k) or (k,))[0] not in names)


class BuilderFaces:
    """The builder's ``faces.json`` for the mosaics of one strength: image boxes by file name
    (matched by stem, so ``a.jpg``'s boxes fit ``mosaic/s8/a.png``), a video's by frame index."""
    label = 'builder'

    def __init__(self, faces: Dict[str, list], prefix: str = ''):
        self.prefix = prefix  # the part of an item's name before the builder's file name
        self.by_stem = {image_stem(name): boxes for name, boxes in faces.items()}

    def boxes(self, key: str, image: np.ndarray) -> List[list]:
        frame = split_frame_key(key)
        if frame is not None:  # a builder video: faces.json is keyed by frame index
            found = self.by_stem.get(str(frame[1]), [])
        else:
            name = key[len(self.prefix):] if key.startswith(self.prefix) else key
            found = self.by_stem.get(image_stem(name), [])
        return [list(b[:4]) for b in found]


class Localiser:
    """The mosaic localiser (:func:`rdid_mm.restore.localiser.locate_mosaics`) on each image;
    ``learned=False``: the lattice alone (faster on large frames, lower recall). On video frames
    its learned detector runs on the whole frame every ``network_every``-th frame and, between,
    only around the faces (:class:`.strided_localiser.StridedLocaliser`; 1: every frame)."""

    def __init__(self, learned: bool = True, network_every: int = NETWORK_EVERY):
        self.learned = learned
        self.frames = StridedLocaliser(network_every)
        self.label = ('localiser (lattice only)' if not learned else 'localiser'
                      if network_every == NETWORK_EVERY else
                      f'localiser (network every {network_every} video frames)')

    def boxes(self, key: str, image: np.ndarray) -> List[list]:
        frame = split_frame_key(key) if self.learned else None
        if frame is not None:
            video, index = frame
            return [m.to_list()[:4] for m in self.frames.mosaics(index, image, video)]
        return [m.to_list()[:4] for m in locate_mosaics(image, learned=self.learned)]


def find_builder_faces(input_path: str) -> Optional[BuilderFaces]:
    """The ``faces.json`` source when ``input_path`` is a builder output with one strength, or
    one of its ``mosaic/s{S}`` folders; ``None`` for any other input."""
    if not osp.isdir(input_path):
        return None
    layout = DeidLayout(input_path)
    if osp.isfile(layout.faces_file) and osp.isdir(osp.join(input_path, 'mosaic')):
        strengths = sorted(os.listdir(osp.join(input_path, 'mosaic')))
        if len(strengths) != 1:
            raise RestoreInputError(
                f'{input_path} is a builder output with mosaics {strengths}: give one of them as '
                f'--input, e.g. {osp.join(input_path, "mosaic", strengths[0])}')
        return BuilderFaces(layout.faces(), prefix=f'mosaic/{strengths[0]}/')
    mosaic_dir = osp.dirname(osp.abspath(input_path))
    layout = DeidLayout(osp.dirname(mosaic_dir))
    if osp.basename(mosaic_dir) == 'mosaic' and osp.isfile(layout.faces_file):
        return BuilderFaces(layout.faces())
    return None


def choose_box_source(input_path: str, boxes_file: Optional[str], whole_image: bool,
                      coco_input: bool, learned_localiser: bool = True,
                      network_every: Optional[int] = None):
    """A boxes file if given, else (region mode) the builder's faces.json when the input is a
    builder output, else the localiser (``learned_localiser``: with its learned detector, on the
    whole of every ``network_every``-th video frame, default ``NETWORK_EVERY``); ``None`` in
    whole-image mode.

    ``learned_localiser=False`` or a ``network_every`` set the localiser: where another source
    gives the boxes, or none in whole-image mode, a :class:`RestoreInputError` names the option
    instead of ignoring it; so does a boxes file in whole-image mode."""
    options = [flag for flag, given in (('--lattice-only', not learned_localiser),
                                        ('--network-every', network_every is not None)) if given]
    if whole_image:
        if boxes_file is not None:
            raise RestoreInputError('--boxes gives the boxes to restore; in whole-image mode no '
                                    'boxes are looked for')
        source, reason = None, 'in whole-image mode no boxes are looked for'
    elif boxes_file is not None:
        source, reason = BoxesFile, '--boxes gives the boxes instead'
    else:
        source = None if coco_input else find_builder_faces(input_path)
        if source is None:
            return Localiser(learned_localiser,
                             NETWORK_EVERY if network_every is None else network_every)
        reason = f"{input_path} is a builder output: its faces.json gives the boxes"
    if options:  # refused before a boxes file is read
        verb = 'set' if len(options) > 1 else 'sets'
        raise RestoreInputError(f"{' and '.join(options)} {verb} the mosaic localiser; {reason}")
    return BoxesFile(boxes_file) if source is BoxesFile else source
