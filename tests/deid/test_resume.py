"""A build killed with SIGKILL in the middle and run again ends with the same files as one run."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from rdid_mm.deid import build_deid_dataset

from tests.deid.test_builder import tree_digest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COPIES = 12


def _records(out_dir):
    return sum(len(files) for _, _, files in os.walk(osp.join(out_dir, '.deid_state', 'records')))


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_gives_identical_files(tmp_path, make_copied_sample):
    ann_file, img_dir = make_copied_sample(str(tmp_path), COPIES)
    total = 4 * COPIES
    options = dict(strengths=(8, 16), face_sources=('wholebody', 'coco_keypoints'))

    killed_dir = str(tmp_path / 'killed')
    command = [sys.executable, osp.join(REPO, 'tools', 'build_deid_dataset.py'), '--ann-file',
               ann_file, '--wholebody-ann', ann_file, '--img-dir', img_dir, '--out', killed_dir,
               '--strengths', '8', '16', '--face-source', 'wholebody', 'coco_keypoints',
               '--workers', '2']
    log = open(tmp_path / 'killed.log', 'w')
    process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True,
                               env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                   [REPO] + os.environ.get('PYTHONPATH', '').split(os.pathsep))))
    deadline = time.monotonic() + 180
    try:
        while _records(killed_dir) < 3:
            assert process.poll() is None, (
                'the build ended before it could be killed:\n'
                + (tmp_path / 'killed.log').read_text()[-3000:])
            assert time.monotonic() < deadline, 'the build made no progress'
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the main process and its workers
        process.wait()
        log.close()
    done_when_killed = _records(killed_dir)
    assert 3 <= done_when_killed < total, 'killed in the middle of the run'
    assert not osp.exists(osp.join(killed_dir, 'summary.json'))

    resumed = build_deid_dataset(ann_file=ann_file, wholebody_ann=ann_file, img_dir=img_dir,
                                 out_dir=killed_dir, progress=False, **options)
    assert resumed['timing']['images_resumed'] == done_when_killed
    assert resumed['timing']['images_processed'] + resumed['timing']['images_resumed'] == total
    assert os.listdir(osp.join(killed_dir, '.deid_state', 'tmp')) == []

    reference_dir = str(tmp_path / 'reference')
    build_deid_dataset(ann_file=ann_file, wholebody_ann=ann_file, img_dir=img_dir,
                       out_dir=reference_dir, progress=False, **options)
    reference = tree_digest(reference_dir)
    assert len([p for p in reference if p.startswith('mosaic')]) == 2 * total
    assert tree_digest(killed_dir) == reference
