"""Table 1 and the strength sweep as numbers with bootstrap intervals, in markdown and CSV.

Every row is resampled with the same image draws (``RowResult.samples``), so a row's difference
to Mosaic has its own (paired) interval, narrower than the two rows' intervals suggest. A model
given with several checkpoints (training seeds) gets a summary line after its runs: the mean and
sample standard deviation of each AP over them (:mod:`rdid_mm.reports.seeds`).
"""
import csv
import io
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from rdid_mm.engine.checkpoint import weights_provenance
from rdid_mm.evaluation.bootstrap import percentile_interval
from rdid_mm.utils.provenance import sha256_of

from .seeds import FACE_COLUMNS, SeedSummary, seed_summary
from .table_provenance import config_sha256
from .table_rows import RowResult

AP_COLUMNS = ('bbox_AP', 'bbox_AP50', 'bbox_AP75', 'kpt_AP', 'kpt_AP50', 'kpt_AP75')
Estimate = Tuple[float, float, float]  # value, interval low, interval high


@dataclass
class TableLine:
    block: Optional[int]  # the strength whose Mosaic row the differences refer to
    result: RowResult
    values: Dict[str, Estimate]
    diffs: Optional[Dict[str, Estimate]]  # None for the Mosaic row itself


@dataclass
class SeedsLine:
    """The summary line of a model's runs (training seeds) at one strength."""
    block: Optional[int]
    summary: SeedSummary
    diffs: Optional[Dict[str, float]]  # mean difference to the block's Mosaic row


Line = Union[TableLine, SeedsLine]
NOT_SCORED = (math.nan, math.nan, math.nan)  # a column the detector has no output for


def _estimate(value: float, samples: np.ndarray, level: float) -> Estimate:
    low, high = percentile_interval(samples, level)
    return float(value), low, high


def _column(result: RowResult, column: str, level: float) -> Estimate:
    """The row's estimate, or n/a where its detector does not return that iou type (an mmdet
    detector has no keypoints)."""
    if column not in result.samples:
        return NOT_SCORED
    return _estimate(result.stats[column], result.samples[column], level)


def _line(block, result, mosaic, level) -> TableLine:
    own = result.samples
    values = {c: _column(result, c, level) for c in AP_COLUMNS}
    diffs = None
    if mosaic is not None and mosaic is not result:
        ref = mosaic.samples
        diffs = {c: _estimate(result.stats[c] - mosaic.stats[c], own[c] - ref[c], level)
                 if c in own and c in ref else NOT_SCORED for c in AP_COLUMNS}
    return TableLine(block, result, values, diffs)


def _seeds_line(block, runs, mosaic) -> SeedsLine:
    summary = seed_summary(runs, AP_COLUMNS)
    diffs = None
    if mosaic is not None:
        diffs = {c: summary.mean[c] - mosaic.stats[c] if c in mosaic.samples else math.nan
                 for c in AP_COLUMNS}
    return SeedsLine(block, summary, diffs)


def _with_summaries(block, models: Sequence[RowResult], mosaic, level) -> List[Line]:
    """The model rows, each model's runs followed by their summary line (if it has several)."""
    lines: List[Line] = []
    names = list(dict.fromkeys(r.spec.name for r in models))
    for name in names:
        runs = [r for r in models if r.spec.name == name]
        lines.extend(_line(block, r, mosaic, level) for r in runs)
        if len(runs) > 1:
            lines.append(_seeds_line(block, runs, mosaic))
    return lines


def table_lines(results: Sequence[RowResult], level: float = 0.95) -> List[Line]:
    """Blocks per strength: GT, Mosaic sS, then the model rows at S (Table 1's order), a model's
    runs followed by their mean ± sd line."""
    strengths = sorted({r.spec.strength for r in results if r.spec.strength is not None})
    gt_rows = [r for r in results if r.spec.kind == 'gt']
    if not strengths:
        return [_line(None, r, None, level) for r in gt_rows]
    lines = []
    for strength in strengths:
        at_strength = [r for r in results if r.spec.strength == strength]
        mosaic = next((r for r in at_strength if r.spec.kind == 'mosaic'), None)
        ordered = gt_rows + [r for r in at_strength if r.spec.kind == 'mosaic']
        lines.extend(_line(strength, r, mosaic, level) for r in ordered)
        lines.extend(_with_summaries(strength, [r for r in at_strength if r.spec.kind == 'model'],
                                     mosaic, level))
    return lines


def _pct(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.1f}'


def _with_interval(est: Estimate, signed: bool = False) -> str:
    value, low, high = est
    if math.isnan(value):
        return 'n/a'
    sign = '+' if signed and value >= 0 else ''
    return f'{sign}{_pct(value)} [{_pct(low)}, {_pct(high)}]'


def _with_spread(mean: float, sd: float, signed: bool = False) -> str:
    """``mean ± sd`` in %, the seeds' summary (sd n/a for one run)."""
    if math.isnan(mean):
        return 'n/a'
    sign = '+' if signed and mean >= 0 else ''
    return f'{sign}{_pct(mean)} ± {_pct(sd)}'


def _face_cells(face: Optional[dict]) -> List[str]:
    if not face:
        return ['', '']
    psnr, ssim = face.get('PSNR'), face.get('SSIM')
    return ['n/a' if psnr is None or math.isnan(psnr) else f'{psnr:.2f}',
            'n/a' if ssim is None or math.isnan(ssim) else f'{ssim:.3f}']


FACE_MODEL_COLUMNS = ('centerface_recall', 'centerface_faces', 'landmark_error',
                      'landmark_faces', 'identity_top1', 'identity_chance', 'identity_faces')


def _has_face_models(lines) -> bool:
    return any(line.result.face_models for line in lines if isinstance(line, TableLine))


def _face_model_cells(scores: dict) -> List[str]:
    if not scores:
        return ['', '', '']
    error = scores['landmark_error']
    return [_pct(scores['centerface_recall']),
            'n/a' if math.isnan(error) else f'{error:.3f}', _pct(scores['identity_top1'])]


def table1_markdown(lines: Sequence[Line], notes: Sequence[str] = ()) -> str:
    """Table 1: box and keypoint AP, AP50, AP75 (%), intervals, differences to Mosaic."""
    header = ['Row', 'bbox AP', 'AP50', 'AP75', 'kpt AP', 'AP50', 'AP75', 'Δ bbox AP vs Mosaic',
              'Δ kpt AP vs Mosaic', 'face PSNR', 'face SSIM']
    face_models = _has_face_models(lines)
    if face_models:
        header += ['CenterFace recall', 'landmark err', 'identity top-1']
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for line in lines:
        if isinstance(line, SeedsLine):
            out.append('| ' + ' | '.join(_seeds_cells(line, len(header))) + ' |')
            continue
        v = line.values
        cells = [line.result.spec.label, _with_interval(v['bbox_AP']), _pct(v['bbox_AP50'][0]),
                 _pct(v['bbox_AP75'][0]), _with_interval(v['kpt_AP']), _pct(v['kpt_AP50'][0]),
                 _pct(v['kpt_AP75'][0])]
        if line.diffs:
            cells += [_with_interval(line.diffs['bbox_AP'], True),
                      _with_interval(line.diffs['kpt_AP'], True)]
        else:
            cells += ['—', '—']
        cells += _face_cells(line.result.face)
        if face_models:
            cells += _face_model_cells(line.result.face_models)
        out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out + [''] + [f'{note}  ' for note in notes]) + '\n'


def _seeds_cells(line: SeedsLine, width: int) -> List[str]:
    mean, sd = line.summary.mean, line.summary.sd
    cells = [line.summary.label] + [_with_spread(mean[c], sd[c]) for c in AP_COLUMNS]
    if line.diffs:
        cells += [_with_spread(line.diffs[c], sd[c], True) for c in ('bbox_AP', 'kpt_AP')]
    else:
        cells += ['—', '—']
    face_mean, face_sd = line.summary.face_mean, line.summary.face_sd
    cells += ['' if math.isnan(face_mean[c]) else f'{face_mean[c]:{f}} ± {face_sd[c]:{f}}'
              for c, f in (('PSNR', '.2f'), ('SSIM', '.3f'))]
    return cells + [''] * (width - len(cells))


WEIGHTS_COLUMNS = ('seed', 'commit', 'config_sha256', 'ann_sha256')  # RDIDRunner.provenance


def _weights_cells(checkpoint: Optional[str]) -> List[str]:
    """What a model row's weights were trained from, where the weights file records it."""
    record = weights_provenance(checkpoint) if checkpoint else {}
    return [record.get(c, '') for c in WEIGHTS_COLUMNS]


def _seeds_csv_row(line: SeedsLine) -> dict:
    summary = line.summary
    row = dict(block_strength=line.block, row=summary.label, kind='seeds', name=summary.name,
               strength=summary.strength, config=summary.results[0].spec.config,
               seeds=summary.n, train_seed=';'.join(
                   str(_weights_cells(r.spec.checkpoint)[0]) for r in summary.results))
    for c in AP_COLUMNS:
        row[c], row[f'{c}_seed_sd'] = summary.mean[c], summary.sd[c]
        if line.diffs:
            row[f'diff_{c}'] = line.diffs[c]
    for c in FACE_COLUMNS:
        if not math.isnan(summary.face_mean[c]):  # '' as for rows without face quality
            row[f'face_{c}'], row[f'face_{c}_seed_sd'] = summary.face_mean[c], summary.face_sd[c]
    return row


def _csv_row(line: TableLine, face_models: bool) -> dict:
    spec = line.result.spec
    row = dict(block_strength=line.block, row=spec.label, kind=spec.kind, name=spec.name,
               strength=spec.strength, config=spec.config, checkpoint=spec.checkpoint)
    for c in AP_COLUMNS:
        row.update(zip((c, f'{c}_low', f'{c}_high'), line.values[c]))
        if line.diffs:
            row.update(zip((f'diff_{c}', f'diff_{c}_low', f'diff_{c}_high'), line.diffs[c]))
    face = line.result.face or {}
    row.update(face_PSNR=face.get('PSNR'), face_SSIM=face.get('SSIM'), faces=face.get('faces'),
               config_sha256=config_sha256(spec.config) if spec.config else '',
               checkpoint_sha256=sha256_of(spec.checkpoint) if spec.checkpoint else '')
    row.update(zip((f'train_{c}' for c in WEIGHTS_COLUMNS), _weights_cells(spec.checkpoint)))
    if face_models:
        row.update({c: line.result.face_models.get(c) for c in FACE_MODEL_COLUMNS})
    return row


def table1_csv(lines: Sequence[Line]) -> str:
    """Every number of Table 1 (fractions), with interval bounds and differences; model rows
    with what their weights were trained from (``train_seed``, ``train_commit``...); a seeds
    line (kind 'seeds') with the mean over the runs in the value columns, their sample standard
    deviation in ``*_seed_sd`` and their number in ``seeds``."""
    columns = ['block_strength', 'row', 'kind', 'name', 'strength', 'config', 'checkpoint']
    for c in AP_COLUMNS:
        columns += [c, f'{c}_low', f'{c}_high']
    for c in AP_COLUMNS:
        columns += [f'diff_{c}', f'diff_{c}_low', f'diff_{c}_high']
    columns += ['face_PSNR', 'face_SSIM', 'faces', 'config_sha256', 'checkpoint_sha256']
    columns += [f'train_{c}' for c in WEIGHTS_COLUMNS] + ['seeds']
    columns += [f'{c}_seed_sd' for c in AP_COLUMNS] + [f'face_{c}_seed_sd' for c in FACE_COLUMNS]
    face_models = _has_face_models(lines)
    if face_models:
        columns += list(FACE_MODEL_COLUMNS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval='', lineterminator='\n')
    writer.writeheader()
    for line in lines:
        row = (_seeds_csv_row(line) if isinstance(line, SeedsLine)
               else _csv_row(line, face_models))
        writer.writerow({k: '' if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def sweep_series(results: Sequence[RowResult], level: float = 0.95):
    """{row name: {strength: {column: Estimate}}}; the GT row is the same at every strength."""
    strengths = sorted({r.spec.strength for r in results if r.spec.strength is not None})
    series: Dict[str, Dict[int, Dict[str, Estimate]]] = {}
    for result in results:
        values = {c: _column(result, c, level) for c in AP_COLUMNS}
        targets = strengths if result.spec.kind == 'gt' else [result.spec.strength]
        for strength in targets:
            series.setdefault(result.spec.display_name, {})[strength] = values
    return strengths, series


def sweep_markdown(strengths: Sequence[int], series, notes: Sequence[str] = ()) -> str:
    """One table per AP column of interest: rows are methods, columns are strengths."""
    out = []
    for column, title in (('kpt_AP', 'Keypoint AP (%)'), ('bbox_AP', 'Box AP (%)')):
        out += [f'### {title}', '',
                '| Row | ' + ' | '.join(f's{s}' for s in strengths) + ' |',
                '|---|' + '---|' * len(strengths)]
        for name, by_strength in series.items():
            cells = [_with_interval(by_strength[s][column]) if s in by_strength else ''
                     for s in strengths]
            out.append(f'| {name} | ' + ' | '.join(cells) + ' |')
        out.append('')
    return '\n'.join(out + [f'{note}  ' for note in notes]) + '\n'


def sweep_csv(series) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['row', 'strength', 'metric', 'value', 'low', 'high'])
    for name, by_strength in series.items():
        for strength, values in sorted(by_strength.items()):
            for column in AP_COLUMNS:
                writer.writerow([name, strength, column, *values[column]])
    return buffer.getvalue()
