"""Real SIGKILLs in the middle of restoration (images and video), Table 1 and the privacy audit.

Each tool runs as the README and docs/ show it, is killed with SIGKILL (with its children: an ffmpeg
encoder dies with it, as under the OOM killer) once part of its output is on disk, and is run
again with the same command. The final files must equal an uninterrupted run's byte for byte, no
staging file may be left, and a torn file planted under a final name must be redone, not kept.
(The builder's and training's kills are in tests/deid/test_resume.py and tests/engine/.)
"""
import json
import os
import os.path as osp
import re
import shutil
import signal
import sys
import time

import cv2
import psutil
import pytest

from tests.evaluation.detector_double import SMALL_DETECTOR
from tests.helpers import run_tool, start_tool
from tests.tools.test_bad_inputs import tiny_weights  # noqa: F401  (a fixture)
from tests.tools.test_train_test_tools import TINY_CONFIG

COPIES = 3  # 12 images: enough for a kill to land between two of them


def tree(folder, skip=()):
    """``{relative path: bytes}`` of every file under ``folder`` (hidden ones too)."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = osp.join(root, name)
            rel = osp.relpath(path, folder)
            if not any(rel == s or rel.startswith(s + os.sep) for s in skip):
                with open(path, 'rb') as f:
                    files[rel] = f.read()
    return files


def staging_files(folder):
    """Files an atomic write left behind (``.<name>.<12 hex>[.suffix]``)."""
    pattern = re.compile(r'^\..+\.[0-9a-f]{12}(\.[A-Za-z0-9]+)?$')
    return sorted(osp.relpath(osp.join(root, n), folder) for root, _, names in os.walk(folder)
                  for n in names if pattern.match(n))


def run(args, log):
    result = run_tool([sys.executable, *args], timeout=600)
    with open(log, 'w') as f:
        f.write(result.stdout + result.stderr)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout + result.stderr


def run_and_kill(args, log, ready, timeout=300):
    """Start the tool, wait (polling, no fixed sleep) until ``ready()``, then SIGKILL it and
    every process it started."""
    process = start_tool([sys.executable, *args], log)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.exitcode is None, (
                'the tool ended before it could be killed:\n' + open(log).read()[-3000:])
            assert time.monotonic() < deadline, 'the tool made no progress'
            time.sleep(0.005)
    finally:
        try:
            victims = [process] + psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            victims = [process]
        for victim in victims:
            try:
                os.kill(victim.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.join()
        psutil.wait_procs([v for v in victims[1:]], timeout=30)
    assert process.exitcode == -signal.SIGKILL


def _pngs(folder):
    return [n for _, _, names in os.walk(folder) for n in names
            if n.endswith('.png') and not n.startswith('.')]


@pytest.fixture(scope='module')
def copied_deid(deid_sample, tmp_path_factory):
    """The builder's output of the sample with every image under ``COPIES`` names (12 images)."""
    root = str(tmp_path_factory.mktemp('copied_deid') / 'val2017')
    shutil.copytree(deid_sample, root)
    with open(osp.join(root, 'faces.json')) as f:
        faces = json.load(f)
    copied = {}
    for copy in range(COPIES):
        for name, boxes in faces.items():
            new = f'c{copy}_{name}'
            stem, new_stem = osp.splitext(name)[0], osp.splitext(new)[0]
            for strength in (8, 16):
                folder = osp.join(root, 'mosaic', f's{strength}')
                shutil.copy(osp.join(folder, stem + '.png'), osp.join(folder, new_stem + '.png'))
            shutil.copy(osp.join(root, 'gt', name), osp.join(root, 'gt', new))
            copied[new] = boxes
    with open(osp.join(root, 'faces.json'), 'w') as f:
        json.dump(copied, f)
    for strength in (8, 16):
        for name in faces:
            os.remove(osp.join(root, 'mosaic', f's{strength}', osp.splitext(name)[0] + '.png'))
    return root, sorted(copied)


@pytest.mark.slow
@pytest.mark.parametrize('mode', ['deid-dir', 'input'])
def test_restore_images_killed_then_rerun_equals_one_run(mode, copied_deid, tiny_weights,
                                                        tmp_path):
    deid, names = copied_deid
    source = (['--deid-dir', deid, '--strength', '8'] if mode == 'deid-dir' else
              ['--input', osp.join(deid, 'mosaic', 's8')])

    def command(out):
        return ['tools/restore.py', TINY_CONFIG, tiny_weights, *source, '--out', out]

    reference, killed = str(tmp_path / 'reference'), str(tmp_path / 'killed')
    run(command(reference), tmp_path / 'reference.log')
    assert len(_pngs(reference)) == len(names)
    run_and_kill(command(killed), tmp_path / 'killed.log', lambda: len(_pngs(killed)) >= 1)
    done = sorted(_pngs(killed))
    assert 1 <= len(done) < len(names), f'killed in the middle: {done}'

    # torn files under final names: one of an image the killed run had not finished, and one
    # of a finished image (torn since, by a disk fault or a partial copy)
    unfinished = next(osp.splitext(n)[0] + '.png' for n in names
                      if osp.splitext(n)[0] + '.png' not in done)
    for torn in (unfinished, done[0]):
        with open(osp.join(reference, torn), 'rb') as f:
            data = f.read()
        with open(osp.join(killed, torn), 'wb') as f:
            f.write(data[:len(data) // 2])
    # kept: the finished outputs the killed run recorded, but the torn one; an output written but
    # not yet recorded when the kill came (two writer threads) is redone like a torn one
    recorded, records = set(), osp.join(killed, '.restore_state', 'records.jsonl')
    for line in open(records).readlines() if osp.isfile(records) else []:
        if line.endswith('\n'):
            recorded.add(osp.basename(json.loads(line)['name']))
    kept = len((recorded & set(done)) - {done[0]})
    redone = len(done) + 1 - kept  # the unfinished torn file too

    log = run(command(killed), tmp_path / 'rerun.log')
    state = ['.restore_state', 'summary.json']
    assert staging_files(killed) == []
    assert tree(killed, skip=state) == tree(reference, skip=state), 'outputs differ'
    if mode == 'input':
        with open(osp.join(killed, 'summary.json')) as f:
            summary = json.load(f)
        assert summary['kept'] == kept and summary['failed'] == 0
        assert summary['kept'] + summary['restored'] + summary['copied_unchanged'] == len(names)
    else:
        expected = f'{kept} already there, 0 failed; {redone} earlier outputs redone'
        assert expected in log, log[-2000:]


def _clip(deid, names, path, frames=24):
    """An MPEG-4 clip panning over one mosaic, made with OpenCV, and its per-frame face boxes."""
    with open(osp.join(deid, 'faces.json')) as f:
        faces = json.load(f)
    name = next(n for n in names if faces[n])
    image = cv2.imread(osp.join(deid, 'mosaic', 's8', osp.splitext(name)[0] + '.png'))
    x, y, w, h = faces[name][0][:4]
    cx, cy = int(x + w / 2), int(y + h / 2)
    width, height = 160, 128
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 12, (width, height))
    boxes = {}
    for index in range(frames):
        x0 = min(max(cx - width // 2 - index, 0), image.shape[1] - width)
        y0 = min(max(cy - height // 2, 0), image.shape[0] - height)
        writer.write(image[y0:y0 + height, x0:x0 + width])
        boxes[f'{osp.basename(path)}#{index:06d}'] = [[x - x0, y - y0, w, h]]
    writer.release()
    return boxes


@pytest.mark.slow
def test_restore_video_killed_then_rerun_equals_one_run(copied_deid, tiny_weights, tmp_path):
    deid, names = copied_deid
    video = str(tmp_path / 'clip.mp4')
    boxes_file = tmp_path / 'boxes.json'
    boxes_file.write_text(json.dumps(_clip(deid, names, video)))

    def command(out):
        return ['tools/restore.py', TINY_CONFIG, tiny_weights, '--input', video, '--boxes',
                str(boxes_file), '--out', out]

    reference, killed = str(tmp_path / 'reference'), str(tmp_path / 'killed')
    run(command(reference), tmp_path / 'reference.log')
    with open(osp.join(reference, 'summary.json')) as f:
        assert json.load(f)['video_results']['clip.mp4']['frames'] == 24

    def encoding():  # the encoder has written part of the staged video
        return any(p.endswith('.mp4') and osp.getsize(osp.join(killed, p)) > 0
                   for p in staging_files(killed) if osp.isfile(osp.join(killed, p)))

    run_and_kill(command(killed), tmp_path / 'killed.log', encoding)
    assert not osp.exists(osp.join(killed, 'clip.mp4'))
    assert [p for p in staging_files(killed) if p.endswith('.mp4')], 'killed while encoding'
    with open(osp.join(killed, 'clip.mp4'), 'wb') as f:  # a torn video under the final name
        f.write(open(osp.join(reference, 'clip.mp4'), 'rb').read()[:1000])

    run(command(killed), tmp_path / 'rerun.log')
    assert staging_files(killed) == []
    state = ['.restore_state', 'summary.json']
    assert tree(killed, skip=state) == tree(reference, skip=state)


@pytest.mark.slow
def test_eval_table_killed_then_rerun_equals_one_run(deid_sample, tmp_path):
    def command(name):
        out = str(tmp_path / name)
        return out, ['tools/eval_table.py', deid_sample, '--out-dir', out, '--strengths', '8',
                     '--detector-weights', 'none', '--min-size',
                     str(SMALL_DETECTOR['min_size']), '--max-size', str(SMALL_DETECTOR['max_size']),
                     '--detections-per-img', str(SMALL_DETECTOR['box_detections_per_img']),
                     '--device', 'cpu', '--bootstrap', '50', '--no-face-models']

    reference, args = command('reference')
    run(args, tmp_path / 'reference.log')
    killed, args = command('killed')
    rows = osp.join(killed, 'cache', 'rows')
    run_and_kill(args, tmp_path / 'killed.log', lambda: osp.isdir(rows) and any(
        n.startswith('gt-GT.scores') and not n.startswith('.') for n in os.listdir(rows)))
    assert not osp.exists(osp.join(killed, 'table1.csv'))

    # torn cache files under their final names: the GT row's detections and scores
    torn = []
    for name in os.listdir(rows):
        if name.startswith('gt-GT') and osp.isfile(osp.join(rows, name)):
            path = osp.join(rows, name)
            torn.append(name)
            data = open(path, 'rb').read()
            with open(path, 'wb') as f:
                f.write(data[:len(data) // 2])
    assert len(torn) == 2, torn
    log = run(args, tmp_path / 'rerun.log')
    assert 'GT: detecting persons on 4 images' in log, log[-3000:]
    assert staging_files(killed) == []
    assert tree(killed) == tree(reference)  # tables, plot, provenance and the cache


@pytest.mark.slow
def test_privacy_audit_killed_then_rerun_equals_one_run(deid_sample, tmp_path):
    def command(name):
        out = str(tmp_path / name)
        return out, ['tools/privacy_audit.py', deid_sample, '--rows', 'mosaic:s8', 'mosaic:s16',
                      '--out', out, '--bootstrap', '50', '--min-face-size', '8']

    reference, args = command('reference')
    run(args, tmp_path / 'reference.log')
    expected = tree(reference)
    assert set(expected) == {'privacy_audit.md', 'privacy_audit.csv', 'privacy_faces.csv',
                             'privacy_audit.png', 'privacy_audit.json'}
    assert json.loads(expected['privacy_audit.json'])['faces'] > 0
    killed, args = command('killed')
    run_and_kill(args, tmp_path / 'killed.log',
                 lambda: osp.isfile(osp.join(killed, 'privacy_audit.md')))
    assert not osp.exists(osp.join(killed, 'privacy_audit.json')), 'killed before the end'
    with open(osp.join(killed, 'privacy_audit.json'), 'wb') as f:  # a torn report
        f.write(expected['privacy_audit.json'][:20])
    run(args, tmp_path / 'rerun.log')
    assert staging_files(killed) == []
    assert tree(killed) == expected
