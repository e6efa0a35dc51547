"""Several checkpoints of one model (training seeds) in Table 1: each a row, then their spread.

A row's bootstrap interval says how far its AP would move with another sample of images, for one
set of weights; training the same config again with another seed moves it too, and the paper's
comparison needs both. ``--model NAME CONFIG CHECKPOINT`` given several times with one NAME means
runs of one model: each checkpoint is scored as its own row (``NAME run 1``, ``NAME run 2``...)
and a summary row gives, per AP column, the mean over the runs, their sample standard deviation
(ddof=1) and their number.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .table_rows import RowResult

SEEDS_NOTE = (
    'mean ± sd (n): the n checkpoints given under one model name (training seeds), each scored as '
    'its own row; mean of each AP over them and their sample standard deviation (n - 1 in the '
    'denominator): the spread from training, beside the [low, high] bootstrap interval, the '
    'spread from the sample of images for one checkpoint; face PSNR/SSIM likewise.')


def number_runs(models: Sequence[Tuple[str, str, str]]) -> List[Tuple[str, str, str,
                                                                        Optional[int]]]:
    """``(name, config, checkpoint, run)``: ``run`` counts the checkpoints of a name from 1, or is
    None for a name given once. One name with two configs, or one checkpoint twice, is an error."""
    configs: Dict[str, str] = {}
    checkpoints: Dict[str, List[str]] = {}
    for name, config, checkpoint in models:
        first = configs.setdefault(name, config)
        if osp.realpath(first) != osp.realpath(config):
            raise ValueError(f'model {name}: given with two configs ({first} and {config}); '
                             'several checkpoints under one name are seeds of one config')
        seen = checkpoints.setdefault(name, [])
        if any(osp.realpath(c) == osp.realpath(checkpoint) for c in seen):
            raise ValueError(f'model {name}: checkpoint {checkpoint} given twice')
        seen.append(checkpoint)
    counts = {name: 0 for name in configs}
    numbered = []
    for name, config, checkpoint in models:
        counts[name] += 1
        numbered.append((name, config, checkpoint,
                         counts[name] if len(checkpoints[name]) > 1 else None))
    return numbered


FACE_COLUMNS = ('PSNR', 'SSIM')  # face-region quality (RowResult.face), summarised the same way


@dataclass
class SeedSummary:
    """Mean and sample standard deviation of each AP column (``mean``, ``sd``) and of the
    face-region PSNR and SSIM (``face_mean``, ``face_sd``) over the runs of one model."""
    name: str
    strength: Optional[int]
    results: List[RowResult]
    mean: Dict[str, float]
    sd: Dict[str, float]
    face_mean: Dict[str, float]
    face_sd: Dict[str, float]

    @property
    def n(self) -> int:
        return len(self.results)

    @property
    def label(self) -> str:
        return f'{self.name} s{self.strength} mean ± sd (n={self.n})'


def _mean_sd(values) -> Tuple[float, float]:
    """Mean and sample standard deviation (ddof=1); NaN where a value is missing."""
    if not values or any(v is None for v in values):
        return float('nan'), float('nan')
    values = np.array(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float('nan')


def seed_summary(results: Sequence[RowResult], columns: Sequence[str]) -> SeedSummary:
    """The summary of the runs of one model at one strength (NaN where a column is not scored)."""
    mean, sd, face_mean, face_sd = {}, {}, {}, {}
    for column in columns:
        mean[column], sd[column] = _mean_sd(
            [r.stats[column] if column in r.samples else None for r in results])
    for column in FACE_COLUMNS:
        face_mean[column], face_sd[column] = _mean_sd(
            [(r.face or {}).get(column) for r in results])
    first = results[0].spec
    return SeedSummary(first.name, first.strength, list(results), mean, sd, face_mean, face_sd)
