"""tools/analysis_tools/benchmark_restore.py: --speed runs and reports what it promises; very
large images; the localiser on an H.264 video."""
import json
import os.path as osp
import sys

import numpy as np
import pytest

from rdid_mm.models.region_restore import restore_regions
from rdid_mm.utils.io import read_rgb

from tests.conftest import REPO_ROOT
from tests.helpers import changed_outside, load_tool, run_tool

benchmark_restore = load_tool('analysis_tools/benchmark_restore')

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


@pytest.mark.slow
def test_speed_benchmark_tool(tmp_path, sample_dir):
    out = tmp_path / 'speed.json'
    result = run_tool(
        [sys.executable, 'tools/analysis_tools/benchmark_restore.py', '--speed', '--config', TINY,
         '--modes', 'region', 'whole', '--repeat', '1', '--sample', sample_dir, '--out', str(out)],
        cwd=REPO_ROOT, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    speed = json.loads(out.read_text())['speed']
    for mode in ('region', 'whole'):
        assert speed[mode]['images'] == 4 and speed[mode]['images_per_second'] > 0
        assert speed[mode]['peak_rss_mib'] > 0
    assert speed['region_over_whole'] == round(
        speed['region']['images_per_second'] / speed['whole']['images_per_second'], 2)
    assert 'region mode / whole-image mode' in result.stdout


def test_8000x6000_region_restore_is_exact_and_bounded(deid_sample):
    """An 8000 x 6000 image with 8 mosaics: crops only, so the extra memory is about two copies
    of the image (input and output), not a full-image generator pass."""
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    photo = read_rgb(osp.join(deid_sample, 'mosaic', 's8', '000000040083.png'))
    big, boxes = benchmark_restore.large_image(photo, [b[:4] for b in faces['000000040083.jpg']])
    assert big.shape == (6000, 8000, 3) and len(boxes) == 8
    before = benchmark_restore.peak_rss_mib()
    out = restore_regions([big], [boxes], lambda crops: [255 - c for c in crops])[0]
    grown = benchmark_restore.peak_rss_mib() - before
    assert changed_outside(big, out, boxes) == 0
    x, y, w, h = boxes[-1]
    np.testing.assert_array_equal(out[y:y + h, x:x + w], 255 - big[y:y + h, x:x + w])
    assert grown < 3 * big.nbytes / 2**20  # 137 MiB per copy


def test_h264_video_made_by_the_builder(sample_img_dir):
    """Per-frame recall on an H.264 video the builder pixelated (CenterFace boxes, S = 8)."""
    result = benchmark_restore.video_figures(osp.join(sample_img_dir, '000000040083.jpg'),
                                             frames=12)
    assert result['frames'] == 12 and result['targets'] >= 12
    assert result['min_frame_recall'] == 1.0 and result['precision'] >= 0.9
    assert result['block_accuracy'] >= 0.9


def test_video_stability_option_runs_the_video_tool(monkeypatch, tmp_path, sample_dir):
    """--video-stability hands the model options to video_stability.py, for a moving and a still
    camera, and keeps both results."""
    import types
    calls = []
    fake = types.ModuleType('video_stability')
    fake.main = lambda argv: calls.append(argv) or dict(rows={'original': dict(flicker=1.0)})
    monkeypatch.setitem(sys.modules, 'video_stability', fake)
    out = tmp_path / 'results.json'
    benchmark_restore.main(['--video-stability', '--config', 'C.py', '--checkpoint', 'W',
                            '--sample', sample_dir, '--out', str(out)])
    options = ['--config', 'C.py', '--sample', sample_dir, '--device', 'cpu', '--checkpoint', 'W']
    assert calls == [options, options + ['--motion', 'subject']]  # a moving and a still camera
    table = {'rows': {'original': {'flicker': 1.0}}}
    assert json.loads(out.read_text()) == {'video_stability': table,
                                          'video_stability_still_camera': table}
