"""The audit's outputs: a markdown report, CSV files (per group and per face) and a plot."""
import csv
import io
import math
from typing import Dict, List, Sequence

import numpy as np

from rdid_mm.utils.io import save_figure

from .identity_audit import FaceResult, Summary

SUMMARY_COLUMNS = ('row', 'split', 'bucket', 'faces', 'top1', 'top1_low', 'top1_high', 'top5',
                   'top5_low', 'top5_high', 'chance_top1', 'chance_top5', 'median_distance',
                   'median_distance_low', 'median_distance_high', 'below_threshold')
FACE_COLUMNS = ('row', 'split', 'bucket', 'file_name', 'img_id', 'face_index', 'x', 'y', 'w', 'h',
                'size', 'distance', 'rank', 'nearest')


def _pct(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.0f}'


def _rate(summary: Summary, key: str) -> str:
    low, high = summary.intervals[key]
    return f'{_pct(getattr(summary, key))} [{_pct(low)}, {_pct(high)}]'


def _bucket_order(bucket: str) -> float:
    if bucket == 'all':
        return -1.0
    digits = bucket.lstrip('<>=').split('-')[0]
    return float(digits) - (0.5 if bucket.startswith('<') else 0.0)


def ordered(summaries: Sequence[Summary], row_order: Sequence[str]) -> List[Summary]:
    split_order = {'all': 0, 'train': 1, 'held-out': 2}
    return sorted(summaries, key=lambda s: (row_order.index(s.row), _bucket_order(s.bucket),
                                            split_order.get(s.split, 3)))


def summary_markdown(summaries: Sequence[Summary], chance: Dict[int, float],
                     row_order: Sequence[str], header: Sequence[str],
                     flagged: Sequence[FaceResult]) -> str:
    lines = ['# Privacy audit: identity leakage', ''] + list(header) + ['']
    lines += ['| row | split | face size (px) | faces | top-1 % [95% CI] | top-5 % [95% CI] | '
              'median distance [95% CI] | below threshold % |',
              '|---|---|---|---:|---|---|---|---:|']
    for s in ordered(summaries, row_order):
        low, high = s.intervals['median_distance']
        lines.append(f'| {s.row} | {s.split} | {s.bucket} | {s.faces} | {_rate(s, "top1")} | '
                     f'{_rate(s, "top5")} | {s.median_distance:.3f} [{low:.3f}, {high:.3f}] | '
                     f'{_pct(s.below_threshold)} |')
    lines += ['', f'Chance: top-1 {100 * chance[1]:.1f} %, top-5 {100 * chance[5]:.1f} %.', '']
    lines += ['## Restored faces whose own original is the nearest gallery face', '']
    if flagged:
        lines += ['| row | file | face | size (px) | distance |', '|---|---|---:|---:|---:|']
        lines += [f'| {r.row} | {r.face.file_name} | {r.face.index} | {r.face.size:.0f} | '
                  f'{r.distance:.3f} |' for r in flagged]
    else:
        lines.append('None.')
    return '\n'.join(lines) + '\n'


def summary_csv(summaries: Sequence[Summary], chance: Dict[int, float],
                row_order: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(SUMMARY_COLUMNS)
    for s in ordered(summaries, row_order):
        writer.writerow([s.row, s.split, s.bucket, s.faces, f'{s.top1:.6f}',
                         *(f'{v:.6f}' for v in s.intervals['top1']), f'{s.top5:.6f}',
                         *(f'{v:.6f}' for v in s.intervals['top5']), f'{chance[1]:.6f}',
                         f'{chance[5]:.6f}', f'{s.median_distance:.6f}',
                         *(f'{v:.6f}' for v in s.intervals['median_distance']),
                         f'{s.below_threshold:.6f}'])
    return buffer.getvalue()


def faces_csv(results: Sequence[FaceResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(FACE_COLUMNS)
    for r in results:
        f = r.face
        writer.writerow([r.row, r.split, r.bucket, f.file_name, f.img_id, f.index,
                         *(f'{v:.2f}' for v in f.box), f'{f.size:.2f}', f'{r.distance:.6f}',
                         r.rank, r.nearest])
    return buffer.getvalue()


def plot_audit(results: Sequence[FaceResult], row_order: Sequence[str], threshold: float,
               chance_top1: float, path: str) -> None:
    """Left: distance to the own original per row; right: top-1 rate per row and face size."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    distances = [[r.distance for r in results if r.row == row] for row in row_order]
    left.boxplot(distances, showfliers=True)
    left.set_xticks(range(1, len(row_order) + 1), row_order, rotation=20)
    if math.isfinite(threshold):
        left.axhline(threshold, color='r', ls='--', lw=1, label=f'same-person {threshold:g}')
        left.legend(loc='best', fontsize='small')
    left.set_ylabel('distance to own original')
    buckets = sorted({r.bucket for r in results}, key=_bucket_order)
    width = 0.8 / max(len(buckets), 1)
    for k, bucket in enumerate(buckets):
        rates = [np.mean([r.top1 for r in results if r.row == row and r.bucket == bucket] or
                         [np.nan]) for row in row_order]
        right.bar(np.arange(len(row_order)) + k * width, [100 * v for v in rates], width,
                  label=f'{bucket} px')
    right.axhline(100 * chance_top1, color='k', ls=':', lw=1, label='chance')
    right.set_xticks(np.arange(len(row_order)) + 0.4 - width / 2, row_order, rotation=20)
    right.set_ylabel('top-1 identification (%)')
    right.legend(loc='best', fontsize='small')
    save_figure(figure, path, dpi=110)
    plt.close(figure)
