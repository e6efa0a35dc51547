"""The one place that builds a model: :func:`init_model` from a config and a weights file; it is
then called through :func:`rdid_mm.models.restorers.model_restorer` (uint8 RGB arrays in, uint8
RGB restorations out), which the models' own val/test steps use in region mode too.

Region, whole-image and video restoration, Table 1's model rows, the tools and the GPU check all
go through them, so switching to another model interface is one edit.
"""
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

from rdid_mm.engine import register_all_modules
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.models.restorers import as_restorer, restoring_generator_prefix
from rdid_mm.registry import MODELS
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
