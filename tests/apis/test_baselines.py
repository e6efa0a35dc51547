"""Every model through every path: RDID-GAN, CycleGAN and Pix2Pix (and mmagic's own CycleGAN)
through tools/test.py (with and without --paste-to-face-boxes), tools/eval_table.py,
tools/restore.py and rdid_mm.restore's whole-image mode, with the same full-resolution handling."""
import csv
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rdid_mm.apis import init_model
from rdid_mm.layout import DeidLayout, restored_path
from rdid_mm.models.restorers import model_restorer
from rdid_mm.restore.regions import restore_whole
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb
from rdid_mm.utils.weights_file import save_state_dict_file

from tests.conftest import REPO_ROOT
from tests.helpers import run_tool

TINY = {
    'rdid_gan': 'configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py',
    'cyclegan': 'configs/cyclegan/cyclegan_lsgan-id0-resnet-in-tiny_1xb2-4i_deid-sample.py',
    'pix2pix': 'configs/pix2pix/pix2pix_vanilla-unet-bn-tiny_1xb2-4i_deid-sample.py',
}
DIVISOR = {'rdid_gan': 4, 'cyclegan': 4, 'pix2pix': 32}


def config_path(name):
    return osp.join(REPO_ROOT, TINY[name])


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """Initialised weights of each tiny model (as training starts), as weights files."""
    folder = tmp_path_factory.mktemp('baseline_weights')
    paths = {}
    for name in TINY:
        model = init_model(config_path(name))
        model.init_weights()
        paths[name] = str(folder / f'{name}.safetensors')
        save_state_dict_file(model.state_dict(), paths[name])
    return paths


def run(args, timeout=900):
    return run_tool([sys.executable] + args, timeout=timeout)


def with_detector(name, folder, deid_sample):
    """A child of the tiny config scoring with a random small Keypoint R-CNN (no download)."""
    child = folder / f'{name}_with_detector.py'
    child.write_text(
        f"_base_ = ['{config_path(name)}']\n"
        f"data_root = '{deid_sample}'\n"
        "test_evaluator = [dict(type='DetectorAPMetric', pred_key='fake_gt', device='cpu',\n"
        "                       detector=dict(weights=None, min_size=128, max_size=192,\n"
        "                                     box_detections_per_img=5))]\n")
    return str(child)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['cyclegan', 'pix2pix'])
def test_test_tool_with_and_without_paste(name, weights, deid_sample, tmp_path):
    layout = DeidLayout(deid_sample)
    faces = layout.faces()
    written = {}
    for paste in (False, True):
        out = tmp_path / f'out{paste}'
        # the tiny configs train on face crops (region mode); paste is for whole-image models
        args = ['tools/test.py', with_detector(name, tmp_path, deid_sample), weights[name],
                '--work-dir', str(tmp_path / 'w'), '--out', str(out),
                '--cfg-options', 'model.restore_mode=whole']
        result = run(args + (['--paste-to-face-boxes'] if paste else []))
        assert result.returncode == 0, result.stderr[-3000:]
        assert '| coco/kpt_AP |' in result.stdout
        written[paste] = out
    for name_ in faces:
        mosaic = read_rgb(layout.mosaic(name_, 8))
        whole = read_rgb(restored_path(str(written[False] / 'images' / 's8'), name_))
        pasted = read_rgb(restored_path(str(written[True] / 'images' / 's8'), name_))
        assert whole.shape == pasted.shape == mosaic.shape
        outside = np.ones(mosaic.shape[:2], bool)
        for box in faces[name_]:
            outside[box_to_slices(box, *mosaic.shape[:2])] = False
        np.testing.assert_array_equal(pasted[outside], mosaic[outside])
        np.testing.assert_array_equal(pasted[~outside], whole[~outside])
        assert not np.array_equal(whole[outside], mosaic[outside])


@pytest.mark.slow
def test_eval_table_scores_both_baselines(weights, deid_sample, tmp_path):
    args = ['tools/eval_table.py', deid_sample, '--out-dir', str(tmp_path), '--strengths', '8',
            '--detector-weights', 'none', '--min-size', '128', '--max-size', '192',
            '--detections-per-img', '5', '--device', 'cpu', '--bootstrap', '20',
            '--paste-to-face-boxes',
            '--model', 'CycleGAN', config_path('cyclegan'), weights['cyclegan'],
            '--model', 'Pix2Pix', config_path('pix2pix'), weights['pix2pix']]
    result = run(args)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / 'table1.csv')))
    assert [r['row'] for r in rows] == ['GT', 'Mosaic s8', 'CycleGAN s8', 'Pix2Pix s8']
    for row in rows[2:]:
        assert 0 <= float(row['kpt_AP']) <= 1 and float(row['face_PSNR']) > 0
    footer = open(tmp_path / 'table1.md').read()
    assert "for Pix2Pix this differs from mmagic's test, which runs in train mode" in footer


@pytest.mark.slow
@pytest.mark.parametrize('name', list(TINY))
def test_restore_tool_and_api_use_the_same_full_resolution_path(name, weights, deid_sample,
                                                                 tmp_path):
    out = tmp_path / 'restored'
    result = run(['tools/restore.py', config_path(name), weights[name], '--deid-dir', deid_sample,
                  '--strength', '8', '--out', str(out), '--whole-image'])
    assert result.returncode == 0, result.stderr[-3000:]
    layout = DeidLayout(deid_sample)
    model = init_model(config_path(name), weights[name])
    file_name = next(iter(layout.faces()))
    mosaic = read_rgb(layout.mosaic(file_name, 8))
    restored = restore_whole(mosaic, model_restorer(model))
    np.testing.assert_array_equal(read_rgb(restored_path(str(out), file_name)), restored)

    # independently: reflect-pad to the divisor, the gt generator in eval mode, crop back
    height, width = mosaic.shape[:2]
    generator = model.generators['gt']
    model.train()  # restoring must not depend on the mode it finds the model in
    x = torch.from_numpy(mosaic).permute(2, 0, 1)[None].float() / 127.5 - 1
    pad_h, pad_w = (-height) % DIVISOR[name], (-width) % DIVISOR[name]
    x = F.pad(x, (0, pad_w, 0, pad_h), mode='reflect')
    generator.eval()
    with torch.no_grad():
        y = generator(x)[..., :height, :width]
    expected = ((y[0] + 1) * 127.5).clamp(0, 255).round().permute(1, 2, 0).to(torch.uint8).numpy()
    model.train()
    again = restore_whole(mosaic, model_restorer(model))
    assert model.training, 'the mode is restored'
    assert np.abs(again.astype(int) - expected.astype(int)).max() <= 1
    np.testing.assert_array_equal(again, restored)


def test_mmagic_own_cyclegan_config_restores_too(tmp_path, deid_sample):
    """A config naming mmagic's CycleGAN (no rdid_mm class) gets the same restore interface."""
    child = tmp_path / 'mmagic_cyclegan.py'
    child.write_text(f"_base_ = ['{config_path('cyclegan')}']\n"
                     "model = dict(type='CycleGAN', _scope_='mmagic')\n")
    model = init_model(str(child))
    assert type(model).__name__ == 'CycleGAN'
    layout = DeidLayout(deid_sample)
    mosaic = read_rgb(layout.mosaic(next(iter(layout.faces())), 8))
    assert restore_whole(mosaic, model_restorer(model)).shape == mosaic.shape


@pytest.mark.slow
def test_a_model_that_cannot_restore_is_one_line(tmp_path, weights, deid_sample):
    child = tmp_path / 'not_a_restorer.py'
    child.write_text(
        f"_base_ = ['{config_path('rdid_gan')}']\n"
        "model = dict(_delete_=True, type='BaseEditModel',\n"
        "             generator=dict(type='SRCNNNet', channels=(3, 8, 4, 3), upscale_factor=1),\n"
        "             pixel_loss=dict(type='L1Loss'),\n"
        "             data_preprocessor=dict(type='DataPreprocessor'))\n")
    for tool, extra in (('test.py', ['--cfg-options', f'data_root={deid_sample}']),
                        ('restore.py', ['--deid-dir', deid_sample, '--strength', '8', '--out',
                                        str(tmp_path / 'o')])):
        result = run([f'tools/{tool}', str(child), weights['rdid_gan']] + extra)
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f'{tool}: error: BaseEditModel ({child}) cannot restore images'), \
            result.stderr[-2000:]
        assert 'Traceback' not in result.stderr
