"""Inference API: build a model from its config and load a weights file, safely."""
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import load_state_dict

from rdid_mm.engine.checkpoint import CheckpointError, load_state_dict_file
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
