"""Inference API: build a model from a config and a weights file, and restore images with it."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import load_state_dict

from rdid_mm.engine.checkpoint import CheckpointError, load_state_dict_file
from rdid_mm.models.face_paste import paste_face_regions
from rdid_mm.registry import MODELS
from rdid_mm.utils import register_all_modules


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build ``config``'s model in eval mode and load ``checkpoint`` (a weights file) into it.

    The weights must match the architecture exactly: a missing or unexpected key raises a
    :class:`CheckpointError` naming the file and the keys.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules()
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        state_dict = load_state_dict_file(checkpoint)
        try:
            load_state_dict(model, state_dict, strict=True)
        except RuntimeError as err:
            raise CheckpointError(
                f'{checkpoint}: does not fit the model of the config '
                f'({type(model).__name__}): {str(err)[:500]}') from None
    model.cfg = cfg
    return model.to(device).eval()


@torch.no_grad()
def restore_image(model: torch.nn.Module, image: np.ndarray,
                  face_boxes: Optional[Sequence[Sequence[float]]] = None) -> np.ndarray:
    """Restore one pixelated RGB image (H, W, 3, uint8) at full resolution with an ``RDIDGAN``.

    With ``face_boxes`` ([x, y, w, h] in pixels) the result equals ``image`` outside them.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}')
    device = next(model.parameters()).device
    preprocessor = model.data_preprocessor
    source = torch.from_numpy(image).permute(2, 0, 1)[None].to(device).float()
    normalised = (source - preprocessor.mean) / preprocessor.std
    restored = model.restore_tensor(normalised) * preprocessor.std + preprocessor.mean
    restored = restored.clamp(0, 255).round()[0]
    if face_boxes is not None:
        restored = paste_face_regions(source[0], restored, face_boxes)
    return restored.permute(1, 2, 0).to(torch.uint8).cpu().numpy()


def restore_folder(model: torch.nn.Module, deid_dir: str, strength: int, out_dir: str,
                   paste_to_face_boxes: bool = True) -> dict:
    """Restore every ``mosaic/s{strength}`` image of a builder output into ``out_dir``.

    Face boxes come from the folder's ``faces.json``; each result is written atomically as
    ``out_dir/<stem>.png``; existing results are kept (a rerun resumes). Returns the counts.
    """
    from mmengine.fileio import load
    from mmengine.logging import print_log
    from mmengine.utils import ProgressBar

    from rdid_mm.evaluation.files import read_rgb, write_png_atomic
    mosaic_dir = osp.join(deid_dir, 'mosaic', f's{strength}')
    faces_file = osp.join(deid_dir, 'faces.json')
    for path in (mosaic_dir, faces_file):
        if not osp.exists(path):
            raise FileNotFoundError(f'not a de-identified dataset folder: {path} is missing')
    if osp.realpath(out_dir) == osp.realpath(deid_dir) or osp.realpath(out_dir).startswith(
            osp.realpath(mosaic_dir) + os.sep):
        raise ValueError(f'--out {out_dir} must not be the dataset folder or inside its mosaics')
    faces = {osp.splitext(osp.basename(name))[0]: boxes for name, boxes in load(faces_file).items()}
    names = sorted(n for n in os.listdir(mosaic_dir) if n.lower().endswith(('.png', '.jpg')))
    counts = dict(restored=0, kept=0, failed=0, without_faces=0)
    progress = ProgressBar(len(names))
    for name in names:
        stem = osp.splitext(name)[0]
        target = osp.join(out_dir, f'{stem}.png')
        boxes = [box[:4] for box in faces.get(stem, [])]
        if osp.exists(target):
            counts['kept'] += 1
        else:
            try:
                image = read_rgb(osp.join(mosaic_dir, name))
            except (FileNotFoundError, ValueError) as err:
                print_log(f'skipped: {err}', logger='current', level=30)
                counts['failed'] += 1
            else:
                counts['without_faces'] += not boxes
                restored = restore_image(model, image, boxes if paste_to_face_boxes else None)
                write_png_atomic(restored, target)
                counts['restored'] += 1
        progress.update()
    print_log(f'\nrestored {counts["restored"]} images into {out_dir} ({counts["kept"]} already '
              f'there, {counts["failed"]} unreadable, {counts["without_faces"]} without a face box)',
              logger='current')
    return counts
