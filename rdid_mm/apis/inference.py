"""Inference API: build any rdid_mm or mmagic translation model from a config and a weights file,
and restore images with it (full resolution, the same path as test and evaluation)."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config

from rdid_mm.engine import register_all_modules
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.layout import DeidLayout, restored_path
from rdid_mm.models.face_paste import paste_face_regions
from rdid_mm.models.restorers import as_restorer, restoring_generator_prefix
from rdid_mm.registry import MODELS
from rdid_mm.utils.io import incomplete_image, read_rgb, remove_staging_files, write_image
from rdid_mm.utils.weights_file import load_weights


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build ``config``'s model in eval mode and load ``checkpoint`` (a weights file, or a
    work_dir: its best checkpoint's weights) into it.

    The model must be able to restore (an mmagic translation model with a ``gt`` generator), else
    :class:`~rdid_mm.models.NotARestorerError`. The weights must hold the restoring generator
    exactly: a missing or unexpected key raises a :class:`WeightsMismatchError` naming the file
    and up to five keys.
    """
    where = config if isinstance(config, str) else 'the config'
    if isinstance(config, str) and not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules()
    model = as_restorer(MODELS.build(cfg.model), where=where)
    if checkpoint is not None:
        checkpoint = resolve_weights_path(checkpoint)
        load_weights(model, checkpoint, prefixes=[restoring_generator_prefix(model)])
    model.cfg = cfg
    return model.to(device).eval()


@torch.no_grad()
def restore_image(model: torch.nn.Module, image: np.ndarray,
                  face_boxes: Optional[Sequence[Sequence[float]]] = None) -> np.ndarray:
    """Restore one pixelated RGB image (H, W, 3, uint8) at full resolution.

    Works with any model :func:`init_model` returns (RDID-GAN, CycleGAN, Pix2Pix, ...). With
    ``face_boxes`` ([x, y, w, h] in pixels) the result equals ``image`` outside them.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}')
    model = as_restorer(model)
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
    """Restore every image of a builder output at ``strength`` into ``out_dir``.

    The images are those of the folder's ``faces.json`` (every image the builder finished, in
    sub-folders too); each result is written atomically to ``out_dir/<stem>.png``
    (:func:`rdid_mm.layout.restored_path`). A rerun resumes: an existing result is kept if it
    decodes completely at the mosaic's size, else (a torn file) it is restored again; staging files
    of a killed run are removed. Returns the counts.
    """
    from mmengine.logging import print_log
    from mmengine.utils import ProgressBar

    layout = DeidLayout(deid_dir)
    for path in (layout.mosaic_dir(strength), layout.faces_file):
        if not osp.exists(path):
            raise FileNotFoundError(f'not a de-identified dataset folder: {path} is missing')
    real_out = osp.realpath(out_dir)
    if real_out == osp.realpath(deid_dir) or real_out.startswith(
            osp.realpath(osp.join(deid_dir, 'mosaic')) + os.sep):
        raise ValueError(f'--out {out_dir} must not be the dataset folder or inside its mosaics')
    faces = layout.faces()
    counts = dict(restored=0, kept=0, failed=0, without_faces=0, redone=0)
    if osp.isdir(out_dir):
        remove_staging_files(out_dir)
    progress = ProgressBar(len(faces))
    for name, boxes in faces.items():
        boxes = [box[:4] for box in boxes]
        target = restored_path(out_dir, name)
        exists = osp.exists(target)
        if exists and _complete(target, layout.mosaic(name, strength)):
            counts['kept'] += 1
        else:
            counts['redone'] += exists
            try:
                image = read_rgb(layout.mosaic(name, strength))
            except (FileNotFoundError, ValueError) as err:
                print_log(f'skipped: {err}', logger='current', level=30)
                counts['failed'] += 1
            else:
                counts['without_faces'] += not boxes
                restored = restore_image(model, image, boxes if paste_to_face_boxes else None)
                write_image(restored, target)
                counts['restored'] += 1
        progress.update()
    print_log(f'\nrestored {counts["restored"]} images into {out_dir} ({counts["kept"]} already '
              f'there, {counts["redone"]} torn ones redone, {counts["failed"]} unreadable, '
              f'{counts["without_faces"]} without a face box)',
              logger='current')
    return counts


def _complete(target: str, mosaic: str) -> bool:
    """Whether an existing result decodes completely at the size of its mosaic."""
    from mmengine.logging import print_log
    from PIL import Image
    try:
        with Image.open(mosaic) as image:
            size = image.size
    except OSError:
        return False  # the mosaic itself is reported (and counted) as unreadable
    problem = incomplete_image(target, expected_size=size)
    if problem:
        print_log(f'{target}: not a complete result ({problem}); restoring it again',
                  logger='current', level=30)
    return problem is None
