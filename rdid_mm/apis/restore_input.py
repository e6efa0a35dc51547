"""``tools/restore.py --input``: restore any folder, image, video or COCO json with a model."""
from typing import Optional

import torch

from rdid_mm.restore.generator import model_restorer
from rdid_mm.restore.pipeline import locate_input, restore_input


def restore_any(model: torch.nn.Module, input_path: str, out_dir: str,
                boxes_file: Optional[str] = None, whole_image: bool = False,
                ann_file: Optional[str] = None, overwrite: bool = False, codec: str = 'h264',
                batch_size: int = 8) -> dict:
    """Restore ``input_path`` into ``out_dir`` with ``model`` (see
    :func:`rdid_mm.restore.pipeline.restore_input`)."""
    return restore_input(model_restorer(model, batch_size=batch_size), input_path, out_dir,
                         boxes_file=boxes_file, whole_image=whole_image, ann_file=ann_file,
                         overwrite=overwrite, codec=codec)


def locate_any(input_path: str) -> dict:
    """``{relative path or video.mp4#000123: [[x, y, w, h, block_size, score], ...]}``."""
    return dict(locate_input(input_path))
