"""``tools/locate_mosaics.py``: the localiser's boxes for every image and video frame of an input,
keyed as a boxes file for :func:`rdid_mm.restore.loop.restore_input` expects them."""
import os.path as osp
import sys
from typing import Dict

from mmengine.logging import print_log

from rdid_mm.utils.io import ImageReadError, read_image
from rdid_mm.utils.progress import ImageProgressBar

from .box_sources import frame_key
from .items import list_files
from .localiser import locate_mosaics
from .restore_video import is_video, read_video_frames
from .strided_localiser import NETWORK_EVERY, StridedLocaliser


def locate_input(input_path: str, progress: bool = False, learned: bool = True,
                 network_every: int = NETWORK_EVERY) -> Dict[str, list]:
    """``{relative path or video.mp4#000123: [[x, y, w, h, block_size, score], ...]}``;
    unreadable images are logged and left out. ``progress``: files done, files/s and ETA on
    stdout; ``learned=False``: the lattice localiser alone (``locate_mosaics(learned=False)``);
    ``network_every``: on video frames the learned detector on the whole of every N-th frame,
    between around the faces (:mod:`.strided_localiser`, as ``tools/restore.py``)."""
    folder = input_path if osp.isdir(input_path) else osp.dirname(input_path)
    names = list(list_files(input_path))
    bar = ImageProgressBar(len(names), file=sys.stdout, unit='files',
                           label='locate ') if progress else None
    found = {}
    for name in names:
        _locate_file(folder, name, found, learned, network_every)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.finish()
    return found


def _locate_file(folder: str, name: str, found: dict, learned: bool,
                 network_every: int) -> None:
    path = osp.join(folder, name)
    if is_video(name):
        frames = StridedLocaliser(network_every)
        for index, frame in enumerate(read_video_frames(path)):
            mosaics = (frames.mosaics(index, frame) if learned
                       else locate_mosaics(frame, learned=False))
            found[frame_key(name, index)] = [m.to_list() for m in mosaics]
        return
    try:
        image = read_image(path).rgb
    except ImageReadError as err:
        print_log(f'{name}: skipped: {err.reason}: {err.detail}', logger='current', level=30)
        return
    found[name] = [m.to_list() for m in locate_mosaics(image, learned=learned)]
