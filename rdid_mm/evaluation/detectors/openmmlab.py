"""Config and weights of an OpenMMLab model used as an evaluation detector.

A config is a file path or a package config (``mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py``,
``mmpose::body_2d_keypoint/...``). Weights are ``None`` (random, seeded: smoke tests only) or a
weights file read with :func:`rdid_mm.utils.weights_file.load_state_dict_file` (safetensors, or a
``.pth`` that ``torch.load(weights_only=True)`` reads: OpenMMLab's published checkpoints, or the
``.safetensors`` file RDIDRunner writes beside each checkpoint). The model is built through the
library's own ``init_detector`` / ``init_model`` without a checkpoint (their ``load_checkpoint``
unpickles anything), then the weights are loaded here.
"""
import os.path as osp
from typing import Optional, Union

import torch
from torch import nn

from rdid_mm.utils.compat import keeping_default_scope
from rdid_mm.utils.weights_file import CheckpointError
from rdid_mm.utils.weights_file import load_weights as load_strict

PACKAGE_PREFIXES = ('mmdet::', 'mmpose::')


def load_model_config(config, cfg_options: Optional[dict] = None):
    """An mmengine ``Config`` from a path, a package config name or a ``Config``."""
    from mmengine.config import Config
    if isinstance(config, Config):
        cfg = config.copy()
    elif isinstance(config, str) and config.startswith(PACKAGE_PREFIXES):
        from mmengine.hub import get_config
        try:
            cfg = get_config(config)
        except (FileNotFoundError, ValueError) as err:
            raise FileNotFoundError(f'detector config not found: {config} ({err})') from None
    else:
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'detector config file not found: {config}')
        cfg = Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def config_scope(cfg) -> str:
    """'mmdet' or 'mmpose': the config's default scope (what library builds its model)."""
    scope = cfg.get('default_scope')
    if scope in ('mmdet', 'mmpose'):
        return scope
    raise ValueError(f'detector config {cfg.filename or "(in memory)"}: default_scope is '
                     f"{scope!r}; expected an mmdet or mmpose config ('mmdet' / 'mmpose')")


def without_pretrained_init(cfg) -> None:
    """Drop ``init_cfg`` downloads from the config: the weights come from ``weights`` or nowhere."""
    def strip(node):
        if isinstance(node, dict):
            init = node.get('init_cfg')
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                node['init_cfg'] = None
            for value in node.values():
                strip(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                strip(value)
    strip(cfg.model)


def seeded_build(build, seed: int, scope: str):
    """Run ``build()`` with torch's global RNG seeded and ``scope`` as the default scope,
    restoring both afterwards.

    Random weights are the layers' own constructors' (``init_weights`` is not run: with its
    ``init_cfg`` RTMDet starts from zero-size boxes that all score 0.01, useless even for a smoke).
    """
    with torch.random.fork_rng(devices=[]), keeping_default_scope(scope):
        torch.manual_seed(seed)
        return build()


def load_weights(model: nn.Module, weights: Union[str, None], what: str) -> None:
    """Load a weights file into ``model``, strictly; errors name the file and the keys."""
    if weights is None:
        return
    weights = str(weights)
    if not osp.isfile(weights):
        raise CheckpointError(f'detector weights file not found: {weights} (expected {what})')
    load_strict(model, weights, what=what)
