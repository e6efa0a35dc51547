"""Table 1 and the strength sweep as numbers with bootstrap intervals, in markdown and CSV.

Every row is resampled with the same image draws (``RowResult.samples``), so a row's difference
to Mosaic has its own (paired) interval, narrower than the two rows' intervals suggest.
"""
import csv
import io
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from rdid_mm.evaluation.bootstrap import percentile_interval
from .provenance import config_sha256, sha256_of
from .rows import RowResult

AP_COLUMNS = ('bbox_AP', 'bbox_AP50', 'bbox_AP75', 'kpt_AP', 'kpt_AP50', 'kpt_AP75')
Estimate = Tuple[float, float, float]  # value, interval low, interval high


@dataclass
class TableLine:
    block: Optional[int]  # the strength whose Mosaic row the differences refer to
    result: RowResult
    values: Dict[str, Estimate]
    diffs: Optional[Dict[str, Estimate]]  # None for the Mosaic row itself


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


def table_lines(results: Sequence[RowResult], level: float = 0.95) -> List[TableLine]:
    """Blocks per strength: GT, Mosaic sS, then the model rows at S (Table 1's order)."""
    strengths = sorted({r.spec.strength for r in results if r.spec.strength is not None})
    gt_rows = [r for r in results if r.spec.kind == 'gt']
    if not strengths:
        return [_line(None, r, None, level) for r in gt_rows]
    lines = []
    for strength in strengths:
        at_strength = [r for r in results if r.spec.strength == strength]
        mosaic = next((r for r in at_strength if r.spec.kind == 'mosaic'), None)
        ordered = gt_rows + [r for r in at_strength if r.spec.kind == 'mosaic'] + [
            r for r in at_strength if r.spec.kind == 'model']
        lines.extend(_line(strength, r, mosaic, level) for r in ordered)
    return lines


def _pct(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.1f}'


def _with_interval(est: Estimate, signed: bool = False) -> str:
    value, low, high = est
    if math.isnan(value):
        return 'n/a'
    sign = '+' if signed and value >= 0 else ''
    return f'{sign}{_pct(value)} [{_pct(low)}, {_pct(high)}]'


def _face_cells(face: Optional[dict]) -> List[str]:
    if not face:
        return ['', '']
    psnr, ssim = face.get('PSNR'), face.get('SSIM')
    return ['n/a' if psnr is None or math.isnan(psnr) else f'{psnr:.2f}',
            'n/a' if ssim is None or math.isnan(ssim) else f'{ssim:.3f}']


FACE_MODEL_COLUMNS = ('centerface_recall', 'centerface_faces', 'landmark_error',
                      'landmark_faces', 'identity_top1', 'identity_chance', 'identity_faces')


def _has_face_models(lines) -> bool:
    return any(line.result.face_models for line in lines)


def _face_model_cells(scores: dict) -> List[str]:
    if not scores:
        return ['', '', '']
    error = scores['landmark_error']
    return [_pct(scores['centerface_recall']),
            'n/a' if math.isnan(error) else f'{error:.3f}', _pct(scores['identity_top1'])]


def table1_markdown(lines: Sequence[TableLine], notes: Sequence[str] = ()) -> str:
    """Table 1: box and keypoint AP, AP50, AP75 (%), intervals, differences to Mosaic."""
    header = ['Row', 'bbox AP', 'AP50', 'AP75', 'kpt AP', 'AP50', 'AP75', 'Δ bbox AP vs Mosaic',
              'Δ kpt AP vs Mosaic', 'face PSNR', 'face SSIM']
    face_models = _has_face_models(lines)
    if face_models:
        header += ['CenterFace recall', 'landmark err', 'identity top-1']
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for line in lines:
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


def table1_csv(lines: Sequence[TableLine]) -> str:
    """Every number of Table 1 (fractions), with interval bounds and differences."""
    columns = ['block_strength', 'row', 'kind', 'name', 'strength', 'config', 'checkpoint']
    for c in AP_COLUMNS:
        columns += [c, f'{c}_low', f'{c}_high']
    for c in AP_COLUMNS:
        columns += [f'diff_{c}', f'diff_{c}_low', f'diff_{c}_high']
    columns += ['face_PSNR', 'face_SSIM', 'faces', 'config_sha256', 'checkpoint_sha256']
    face_models = _has_face_models(lines)
    if face_models:
        columns += list(FACE_MODEL_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(columns)
    for line in lines:
        spec = line.result.spec
        row = [line.block, spec.label, spec.kind, spec.name, spec.strength, spec.config,
               spec.checkpoint]
        for c in AP_COLUMNS:
            row += list(line.values[c])
        for c in AP_COLUMNS:
            row += list(line.diffs[c]) if line.diffs else ['', '', '']
        face = line.result.face or {}
        row += [face.get('PSNR', ''), face.get('SSIM', ''), face.get('faces', '')]
        spec = line.result.spec
        row += [config_sha256(spec.config) if spec.config else '',
                sha256_of(spec.checkpoint) if spec.checkpoint else '']
        if face_models:
            row += [line.result.face_models.get(c, '') for c in FACE_MODEL_COLUMNS]
        writer.writerow(['' if v is None else v for v in row])
    return buffer.getvalue()


def sweep_series(results: Sequence[RowResult], level: float = 0.95):
    """{row name: {strength: {column: Estimate}}}; the GT row is the same at every strength."""
    strengths = sorted({r.spec.strength for r in results if r.spec.strength is not None})
    series: Dict[str, Dict[int, Dict[str, Estimate]]] = {}
    for result in results:
        values = {c: _column(result, c, level) for c in AP_COLUMNS}
        targets = strengths if result.spec.kind == 'gt' else [result.spec.strength]
        for strength in targets:
            series.setdefault(result.spec.name, {})[strength] = values
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
