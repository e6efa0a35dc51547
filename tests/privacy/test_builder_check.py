"""The builder's --privacy-check: per-strength identifiability of the mosaics it just wrote."""
import os.path as osp
import sys

import numpy as np
import pytest

from rdid_mm.privacy import IdentityAudit, privacy_check

from tests.helpers import run_tool


@pytest.mark.slow
def test_privacy_check_matches_the_audit_per_strength(privacy_sample, dlib_embedder):
    report = privacy_check(privacy_sample, embedder=dlib_embedder)
    assert sorted(report['strengths']) == [8, 16]
    audit = IdentityAudit(privacy_sample, embedder=dlib_embedder)
    for strength, by_bucket in report['strengths'].items():
        results = audit.score(audit.row(f'mosaic:s{strength}'))
        assert by_bucket['all']['faces'] == len(results) == len(audit.faces)
        ranks = np.array([r.rank for r in results])
        assert by_bucket['all']['top1'] == pytest.approx(np.mean(ranks == 1))
        assert by_bucket['all']['top5'] == pytest.approx(np.mean(ranks <= 5))
        assert sum(v['faces'] for k, v in by_bucket.items() if k != 'all') == len(results)
    assert report['chance_top1'] == pytest.approx(1 / len(audit.faces))
    assert any(line.strip().startswith('s16') for line in report['lines'])


@pytest.mark.slow
def test_build_tool_privacy_check(sample_ann_file, sample_img_dir, tmp_path):
    out = tmp_path / 'deid'
    result = run_tool(
        [sys.executable, 'tools/build_deid_dataset.py', '--ann-file', sample_ann_file,
         '--img-dir', sample_img_dir, '--out', str(out), '--strengths', '8', '--face-source',
         'coco_keypoints', '--privacy-check'],
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip().startswith('s8')]
    expected = privacy_check(str(out), [8])
    assert lines == [line for line in expected['lines'] if line.strip().startswith('s8')]
    assert osp.isdir(out / 'mosaic' / 's8')


def test_build_tool_refuses_privacy_check_with_publish(sample_ann_file, sample_img_dir, tmp_path):
    result = run_tool(
        [sys.executable, 'tools/build_deid_dataset.py', '--ann-file', sample_ann_file,
         '--img-dir', sample_img_dir, '--out', str(tmp_path / 'd'), '--face-source',
         'coco_keypoints', '--publish', '--privacy-check'], timeout=600)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        'build_deid_dataset.py: error: --privacy-check needs the originals (gt/)')
    assert not (tmp_path / 'd').exists(), 'refused before building'
