"""The one place that builds and calls a model: :func:`init_model` from a config and a weights
file, then :func:`model_restorer`: uint8 RGB arrays in, uint8 RGB restorations out.

Region, whole-image and video restoration, Table 1's model rows, the tools and the GPU check all
go through them, so switching to another model interface is one edit here.
"""
import os.path as osp
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config

from rdid_mm.engine import register_all_modules
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.models.restorers import as_restorer, restoring_generator_prefix
from rdid_mm.registry import MODELS
from rdid_mm.utils.weights_file import load_weights

Restorer = Callable[[Sequence[np.ndarray]], List[np.ndarray]]


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


def check_rgb(image: np.ndarray) -> None:
    """Refuse anything but an ``H x W x 3`` uint8 array (a grey or float image would be
    restored silently wrong)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}')


def model_restorer(model: torch.nn.Module, batch_size: int = 8) -> Restorer:
    """A function restoring a list of ``H x W x 3`` uint8 RGB arrays with ``model``.

    The model's own restore interface (:mod:`rdid_mm.models.restorers`: pad, translate in eval
    mode, crop) on tensors normalised by its data preprocessor; arrays of the same shape are
    batched together, ``batch_size`` at a time. Runs under any autocast the caller opened.
    """
    model = as_restorer(model)
    device = next(model.parameters()).device
    preprocessor = model.data_preprocessor

    @torch.no_grad()
    def restore(images: Sequence[np.ndarray]) -> List[np.ndarray]:
        for image in images:
            check_rgb(image)
        out: List[np.ndarray] = [None] * len(images)
        by_shape = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                batch = torch.from_numpy(np.stack([images[i] for i in chunk]))
                source = batch.permute(0, 3, 1, 2).to(device).float()
                normalised = (source - preprocessor.mean) / preprocessor.std
                restored = model.restore_tensor(normalised).float()
                restored = restored * preprocessor.std + preprocessor.mean
                restored = restored.clamp(0, 255).round().to(torch.uint8)
                for i, r in zip(chunk, restored.permute(0, 2, 3, 1).cpu().numpy()):
                    out[i] = r
        return out

    return restore
