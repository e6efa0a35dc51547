"""The training entry point that ``tools/train.py`` and ``tools/dist_train.sh`` call."""
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from rdid_mm.engine import register_all_modules
from rdid_mm.engine.distributed import prepare_distributed
from rdid_mm.registry import RUNNERS


class AmpUnavailableError(RuntimeError):
    """``--amp`` was asked for on a machine without CUDA."""


def load_config(config: str, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None,
                launcher: str = 'none') -> Config:
    """Read a config, apply ``--cfg-options`` and choose the work_dir like OpenMMLab's tools.

    Nothing else: the loops fill the datasets from the top-level ``data_root`` and ``strengths``
    (:mod:`rdid_mm.engine.data_settings`), as they do under a plain ``Runner.from_cfg``."""
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def enable_amp(cfg: Config) -> None:
    """Switch every optimiser wrapper of ``cfg`` to MMEngine's AmpOptimWrapper (CUDA only)."""
    if not torch.cuda.is_available():
        raise AmpUnavailableError(
            '--amp needs a CUDA GPU (automatic mixed precision runs on CUDA); no GPU is visible, '
            'so train without --amp on this machine.')
    optim_wrapper = cfg.optim_wrapper
    wrappers = [optim_wrapper] if 'optimizer' in optim_wrapper else [
        value for key, value in optim_wrapper.items() if isinstance(value, dict)]
    for wrapper in wrappers:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(cfg: Config) -> Runner:
    """Build the Runner named by ``cfg.runner_type``; ``RDIDRunner`` (the checkpoint policy) if
    unset."""
    register_all_modules(init_default_scope=False)
    prepare_distributed(cfg)
    cfg.setdefault('runner_type', 'RDIDRunner')
    return RUNNERS.build(cfg)


def train(config: str, work_dir: Optional[str] = None, resume: bool = False, amp: bool = False,
          cfg_options: Optional[dict] = None, launcher: str = 'none',
          load_from: Optional[str] = None, resume_allow_changes: bool = False) -> Runner:
    """Train the model of ``config`` through MMEngine's Runner and return the runner.

    ``resume=True`` continues from the latest checkpoint of the work_dir; a path resumes from
    that checkpoint (read weights-only). A checkpoint saved under another global batch, training
    set length or seed is refused unless ``resume_allow_changes`` (then a warning is logged).
    """
    cfg = load_config(config, work_dir, cfg_options, launcher)
    if amp:
        enable_amp(cfg)
    if load_from is not None:
        cfg.load_from = load_from
    if resume_allow_changes:
        cfg.resume_allow_changes = True
    if resume is True:
        cfg.resume = True
    elif resume:
        cfg.resume = True
        cfg.load_from = resume
    runner = build_runner(cfg)
    runner.train()
    return runner

