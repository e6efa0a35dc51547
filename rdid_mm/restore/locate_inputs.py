"""``tools/locate_mosaics.py``: the localiser's boxes for every image and video frame of an input,
keyed as a boxes file for :func:`rdid_mm.restore.loop.restore_input` expects them."""
import os.path as osp
from typing import Dict

from mmengine.logging import print_log

from rdid_mm.utils.io import ImageReadError, read_image

from .box_sources import frame_key
from .items import list_files
from .localiser import locate_mosaics
from .restore_video import is_video, read_video_frames


def locate_input(input_path: str) -> Dict[str, list]:
    """``{relative path or video.mp4#000123: [[x, y, w, h, block_size, score], ...]}``;
    unreadable images are logged and left out."""
    folder = input_path if osp.isdir(input_path) else osp.dirname(input_path)
    found = {}
    for name in list_files(input_path):
        path = osp.join(folder, name)
        if is_video(name):
            for index, frame in enumerate(read_video_frames(path)):
                found[frame_key(name, index)] = [m.to_list() for m in locate_mosaics(frame)]
            continue
        try:
            image = read_image(path).rgb
        except ImageReadError as err:
            print_log(f'{name}: skipped: {err.reason}: {err.detail}', logger='current', level=30)
            continue
        found[name] = [m.to_list() for m in locate_mosaics(image)]
    return found
