"""Table 1 with several checkpoints of one model (training seeds): each a row, then mean ± sd.

Two one-iteration trainings of the tiny RDID-GAN with seeds 1 and 2 are two checkpoints of one
model; the summary line's mean and sample standard deviation are checked against numpy over the
two model rows of the CSV, and its seeds against those the weights files record.
"""
import csv
import math
import os.path as osp
import sys

import numpy as np
import pytest

from rdid_mm import apis
from rdid_mm.reports import make_table1
from rdid_mm.reports.table_format import AP_COLUMNS, table1_csv, table1_markdown, table_lines
from rdid_mm.reports.table_rows import RowResult, RowSpec

from tests.conftest import REPO_ROOT
from tests.evaluation.detector_double import SMALL_DETECTOR
from tests.helpers import run_tool
from tests.models.test_training import TINY, tiny_cfg

TINY_RDID_GAN = osp.join(REPO_ROOT, TINY['rdid_gan'])
SEEDS = (1, 2)


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope='module')
def seed_checkpoints(deid_sample, tmp_path_factory):
    """One training iteration of the tiny RDID-GAN per seed (no validation): its weights file."""
    paths = []
    for seed in SEEDS:
        work_dir = tmp_path_factory.mktemp(f'seed{seed}')
        apis.build_runner(tiny_cfg('rdid_gan', deid_sample, work_dir, **{
            'train_cfg.max_iters': 1, 'train_cfg.val_begin': 100,
            'randomness.seed': seed})).train()
        paths.append(str(work_dir / 'iter_1.safetensors'))
    return paths


@pytest.mark.slow
def test_two_seeds_of_one_model_get_a_mean_and_sd_line(deid_sample, seed_checkpoints, tmp_path):
    models = [('Tiny', TINY_RDID_GAN, path) for path in seed_checkpoints]
    paths = make_table1(deid_sample, str(tmp_path), strengths=[8], models=models,
                        detector=SMALL_DETECTOR, device='cpu', num_bootstrap=50,
                        face_models=False)
    rows = _csv_rows(paths['csv'])
    assert [r['row'] for r in rows] == ['GT', 'Mosaic s8', 'Tiny run 1 s8', 'Tiny run 2 s8',
                                        'Tiny s8 mean ± sd (n=2)']
    runs, summary, mosaic = rows[2:4], rows[4], rows[1]
    assert [r['checkpoint'] for r in runs] == seed_checkpoints
    assert [r['train_seed'] for r in runs] == ['1', '2'] and summary['train_seed'] == '1;2'
    assert summary['kind'] == 'seeds' and summary['seeds'] == '2'
    # the random-weights detector finds no person on the 4 tiny images (every AP 0): the AP
    # spread is checked on constructed rows below; the face quality differs between the seeds
    assert runs[0]['face_PSNR'] != runs[1]['face_PSNR'], 'the two checkpoints restore differently'
    for column in ('face_PSNR', 'face_SSIM'):
        values = np.array([float(r[column]) for r in runs])
        assert float(summary[column]) == pytest.approx(values.mean(), abs=1e-9)
        assert float(summary[f'{column}_seed_sd']) == pytest.approx(values.std(ddof=1), abs=1e-9)
        assert values.std(ddof=1) > 0
    for column in AP_COLUMNS:
        values = np.array([float(r[column]) for r in runs])
        assert float(summary[column]) == pytest.approx(values.mean(), abs=1e-12)
        assert float(summary[f'{column}_seed_sd']) == pytest.approx(values.std(ddof=1),
                                                                    abs=1e-12)
        assert float(summary[f'diff_{column}']) == pytest.approx(
            values.mean() - float(mosaic[column]), abs=1e-12)
        assert summary[f'{column}_low'] == '' and runs[0][f'{column}_low'] != ''
    markdown = open(paths['markdown']).read()
    line = next(ln for ln in markdown.splitlines() if ln.startswith('| Tiny s8 mean ± sd (n=2) |'))
    kpt = np.array([float(r['kpt_AP']) for r in runs])
    psnr = np.array([float(r['face_PSNR']) for r in runs])
    assert f'| {100 * kpt.mean():.1f} ± {100 * kpt.std(ddof=1):.1f} |' in line
    assert f'| {psnr.mean():.2f} ± {psnr.std(ddof=1):.2f} |' in line
    assert 'sample standard deviation' in markdown and '| Tiny run 2 s8 |' in markdown


def _result(name, run, strength, kind, kpt_ap, config=None):
    checkpoint = f'{config}.{name}{run}.safetensors' if kind == 'model' else None
    spec = RowSpec(name, kind, strength, config if kind == 'model' else None, checkpoint,
                   run=run)
    stats = {c: kpt_ap + 0.01 * i for i, c in enumerate(AP_COLUMNS)}
    samples = {c: np.full(20, stats[c]) + np.linspace(-0.01, 0.01, 20) for c in AP_COLUMNS}
    return RowResult(spec, None, 4, stats, samples)


def test_three_runs_mean_and_sd_equal_numpy(tmp_path):
    """Three runs with known, different APs (no detector): the summary against numpy."""
    aps = (0.30, 0.32, 0.35)
    config = tmp_path / 'model.py'
    config.write_text('x = 1\n')
    results = [_result('GT', None, None, 'gt', 0.6), _result('Mosaic', None, 8, 'mosaic', 0.1)]
    results += [_result('M', i + 1, 8, 'model', ap, str(config)) for i, ap in enumerate(aps)]
    results.append(_result('Other', None, 8, 'model', 0.2, str(config)))
    lines = table_lines(results)
    rows = list(csv.DictReader(table1_csv(lines).splitlines()))
    assert [r['row'] for r in rows] == ['GT', 'Mosaic s8', 'M run 1 s8', 'M run 2 s8',
                                        'M run 3 s8', 'M s8 mean ± sd (n=3)', 'Other s8']
    summary = rows[5]
    for i, column in enumerate(AP_COLUMNS):
        values = np.array(aps) + 0.01 * i
        assert float(summary[column]) == pytest.approx(values.mean())
        assert float(summary[f'{column}_seed_sd']) == pytest.approx(values.std(ddof=1))
    assert math.isclose(float(summary['kpt_AP_seed_sd']), np.std(aps, ddof=1))
    assert rows[6]['seeds'] == '' and rows[6]['kpt_AP_seed_sd'] == ''
    markdown = table1_markdown(lines)
    kpt = np.array(aps) + 0.01 * AP_COLUMNS.index('kpt_AP')
    assert ('| M s8 mean ± sd (n=3) | ' in markdown
            and f'{100 * kpt.mean():.1f} ± {100 * kpt.std(ddof=1):.1f}' in markdown)


@pytest.mark.slow
def test_one_name_with_two_configs_is_a_one_line_error(deid_sample, seed_checkpoints, tmp_path):
    other = osp.join(REPO_ROOT, TINY['pix2pix'])
    with pytest.raises(ValueError, match=r'model Tiny: given with two configs'):
        make_table1(deid_sample, str(tmp_path), strengths=[8], detector=SMALL_DETECTOR,
                    models=[('Tiny', TINY_RDID_GAN, seed_checkpoints[0]),
                            ('Tiny', other, seed_checkpoints[1])])
    with pytest.raises(ValueError, match=r'checkpoint .*iter_1.safetensors given twice'):
        make_table1(deid_sample, str(tmp_path), strengths=[8], detector=SMALL_DETECTOR,
                    models=[('Tiny', TINY_RDID_GAN, seed_checkpoints[0])] * 2)
    result = run_tool(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'eval_table.py'), deid_sample,
         '--out-dir', str(tmp_path), '--strengths', '8', '--detector-weights', 'none',
         '--model', 'Tiny', TINY_RDID_GAN, seed_checkpoints[0],
         '--model', 'Tiny', other, seed_checkpoints[1]], timeout=600)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith('eval_table.py: error: model Tiny: given with two configs')
    assert 'Traceback' not in result.stderr
