"""tools/privacy_audit.py end to end: report, CSVs and plot on disk; one-line errors."""
import csv
import os.path as osp
import re
import sys

import numpy as np
import pytest

from .conftest import write_row
from tests.helpers import run_tool


def run_audit(*args):
    return run_tool([sys.executable, 'tools/privacy_audit.py', *args], timeout=600)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_audit_writes_report_csvs_and_plot(privacy_sample, portrait_gallery, tmp_path):
    copy = write_row(privacy_sample, tmp_path / 'copy', lambda im, b, n: im)
    out = tmp_path / 'audit'
    result = run_audit(privacy_sample, '--rows', 'mosaic:s8', 'mosaic:s16',
                       f'restored:copy={copy}', '--gallery', portrait_gallery, '--out', str(out),
                       '--bootstrap', '200')
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ('privacy_audit.md', 'privacy_audit.csv', 'privacy_faces.csv',
                 'privacy_audit.png', 'privacy_audit.json'):
        assert osp.getsize(out / name) > 0, name
    faces = read_csv(out / 'privacy_faces.csv')
    summary = read_csv(out / 'privacy_audit.csv')
    rows = ['original', 'mosaic s8', 'mosaic s16', 'copy']
    assert [s['row'] for s in summary if s['bucket'] == 'all'] == rows
    # progress of the gallery and of each row: its last line, whole (no redraws in a log)
    done = [re.match(r'(.*) (\d+)/\2 \(100%\), ', line) for line in result.stdout.splitlines()]
    assert [m.group(1) for m in done if m] == ['gallery (originals)'] + rows, result.stdout
    assert '\r' not in result.stdout
    per_row = {row: [f for f in faces if f['row'] == row] for row in rows}
    assert len({len(v) for v in per_row.values()}) == 1, 'every row scores the same faces'
    for s in summary:
        members = [f for f in per_row[s['row']] if s['bucket'] in ('all', f['bucket'])]
        assert int(s['faces']) == len(members)
        top1 = np.mean([f['rank'] == '1' for f in members])
        assert float(s['top1']) == pytest.approx(top1, abs=1e-6)
        assert float(s['top1_low']) - 1e-6 <= top1 <= float(s['top1_high']) + 1e-6
        assert float(s['median_distance']) == pytest.approx(
            np.median([float(f['distance']) for f in members]), abs=2e-6)
        assert float(s['below_threshold']) == pytest.approx(
            np.mean([float(f['distance']) < 0.6 for f in members]), abs=1e-6)
        gallery = len(per_row['original']) + 2
        assert float(s['chance_top1']) == pytest.approx(1 / gallery, abs=1e-6)
    assert all(float(f['size']) >= 24 for f in faces)
    report = (out / 'privacy_audit.md').read_text()
    assert 'of at least 24 px' in report and 'smaller faces are left out' in report
    # An unmodified copy as a "restored" row: every face is flagged as given back.
    flagged = report.split('## Restored faces whose own original is the nearest')[1]
    assert flagged.count('| copy |') == len(per_row['copy'])
    assert 'mosaic s8' not in flagged


@pytest.mark.slow
def test_bad_row_is_one_line_error(privacy_sample, tmp_path):
    result = run_audit(privacy_sample, '--rows', 'restored:x=/nonexistent', '--out',
                       str(tmp_path / 'o'))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "privacy_audit.py: error: row 'restored:x=/nonexistent': folder not found: /nonexistent")
    assert 'Traceback' not in result.stderr


@pytest.mark.slow
def test_missing_dataset_is_one_line_error(tmp_path):
    result = run_audit(str(tmp_path / 'none'), '--out', str(tmp_path / 'o'))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f'privacy_audit.py: error: de-identified dataset folder not found: {tmp_path}/none')


@pytest.mark.slow
def test_bad_embedder_is_one_line_error(privacy_sample, tmp_path):
    missing = run_audit(privacy_sample, '--embedder', str(tmp_path / 'arcface.onnx'), '--out',
                        str(tmp_path / 'o'))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1] == (
        f'privacy_audit.py: error: ONNX embedder model file not found: {tmp_path}/arcface.onnx')
    unknown = run_audit(privacy_sample, '--embedder', 'arcface', '--out', str(tmp_path / 'o'))
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines()[-1].startswith(
        "privacy_audit.py: error: unknown face embedder 'arcface'; registered: [")
