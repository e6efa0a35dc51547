"""Restoring images with a trained model: full resolution, faces only, files on disk; the
builder-folder and any-input entry points of tools/restore.py give the same bytes."""
import glob
import json
import os
import os.path as osp
import sys
import threading

import numpy as np
import pytest
import torch
from mmengine.config import Config

from rdid_mm.apis import init_model
from rdid_mm.models.region_restore import context_window, restore_regions
from rdid_mm.models.restore_mode import WHOLE, default_mode
from rdid_mm.models.restorers import model_restorer
from rdid_mm.restore.regions import restore_whole
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb

from tests.conftest import REPO_ROOT
from tests.helpers import random_weights_file, run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG

RESIZE_CONFIG = 'configs/rdid_gan/rdid-gan_resnet-cbam_8xb4-resize256-100e_deid-coco.py'


@pytest.fixture(scope='module')
def tiny_weights(tmp_path_factory):
    """A weights file of the tiny RDID-GAN (random initialisation, as training starts)."""
    return random_weights_file(TINY_CONFIG,
                               str(tmp_path_factory.mktemp('weights') / 'tiny.safetensors'))


def test_restorer_keeps_size_and_changes_only_the_faces(deid_sample, tiny_weights):
    """Whole image: the generator's output rounded to uint8. Region mode: each face box holds
    the generator's output on the box's context window, everything else is the input."""
    model = init_model(TINY_CONFIG, tiny_weights)
    restorer = model_restorer(model)
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    name = next(n for n, boxes in faces.items() if len(boxes) == 1)
    mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's8', osp.splitext(name)[0] + '.png'))
    boxes = [box[:4] for box in faces[name]]

    def generator(rgb):
        normalised = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
        with torch.no_grad():
            out = ((model.restore_tensor(normalised) + 1) * 127.5).clamp(0, 255)
        return out[0].permute(1, 2, 0).numpy()

    whole = restore_whole(mosaic, restorer)
    assert whole.shape == mosaic.shape and whole.dtype == np.uint8
    assert np.abs(whole - generator(mosaic)).max() <= 0.5 + 1e-3, 'rounded generator output'
    assert not np.array_equal(whole, mosaic)

    region = restore_regions([mosaic], [boxes], restorer, size_multiple=1)[0]
    rows, cols = box_to_slices(boxes[0], *mosaic.shape[:2])
    x1, y1, x2, y2 = context_window((cols.start, rows.start, cols.stop, rows.stop),
                                    *mosaic.shape[:2], context=0.5)
    crop_out = generator(np.ascontiguousarray(mosaic[y1:y2, x1:x2]))
    expected = crop_out[rows.start - y1:rows.stop - y1, cols.start - x1:cols.stop - x1]
    assert np.abs(region[rows, cols] - expected).max() <= 0.5 + 1e-3
    inside = np.zeros(mosaic.shape[:2], dtype=bool)
    inside[rows, cols] = True
    assert np.array_equal(region[~inside], mosaic[~inside])
    assert not np.array_equal(region[inside], whole[inside]), 'a crop, not the whole image'


def test_restorer_rejects_non_rgb_input(tiny_weights):
    restorer = model_restorer(init_model(TINY_CONFIG, tiny_weights))
    with pytest.raises(ValueError, match='expected an H x W x 3 uint8 RGB image'):
        restorer([np.zeros((8, 8), dtype=np.uint8)])


@pytest.mark.slow
def test_deid_dir_and_input_write_the_same_bytes(deid_sample, tiny_weights, tmp_path):
    """``--deid-dir D --strength 8`` and ``--input D/mosaic/s8`` (boxes from D/faces.json both
    ways) run one loop: byte-identical PNGs, faces changed, the rest the mosaic's pixels."""
    outputs = {}
    for mode, source in (('deid-dir', ['--deid-dir', deid_sample, '--strength', '8']),
                         ('input', ['--input', osp.join(deid_sample, 'mosaic', 's8')])):
        out = tmp_path / mode
        result = run_tool([sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights,
                           *source, '--out', str(out)])
        assert result.returncode == 0, result.stderr[-2000:]
        outputs[mode] = {p.name: p.read_bytes() for p in out.glob('*.png')}
    assert outputs['deid-dir'] == outputs['input'] and len(outputs['input']) == 4
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    for name, boxes in faces.items():
        stem = osp.splitext(name)[0]
        mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's8', stem + '.png'))
        restored = read_rgb(str(tmp_path / 'input' / (stem + '.png')))
        inside = np.zeros(mosaic.shape[:2], dtype=bool)
        for box in boxes:
            inside[box_to_slices(box, *mosaic.shape[:2])] = True
        assert np.array_equal(restored[~inside], mosaic[~inside])
        assert (restored[inside] != mosaic[inside]).any() == inside.any()


@pytest.mark.slow
def test_restore_tool_writes_every_image_and_resumes(deid_sample, tiny_weights, tmp_path):
    out = tmp_path / 'restored'
    args = [sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights, '--deid-dir',
            deid_sample, '--strength', '16', '--out', str(out)]
    first = run_tool(args, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    mosaics = sorted(os.listdir(osp.join(deid_sample, 'mosaic', 's16')))
    assert sorted(n for n in os.listdir(out) if n.endswith('.png')) == mosaics
    # 000000196141 has no face box: copied, pixels unchanged (region mode)
    assert 'restored 3 images and copied 1 without a box' in first.stdout + first.stderr
    for name in mosaics:
        mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's16', name))
        assert read_rgb(str(out / name)).shape == mosaic.shape
    # progress in a log: whole lines with items/s and ETA, not a bar redrawn per item
    progress = [line for line in first.stdout.splitlines() if line.startswith('restore ')]
    assert progress and progress[-1].startswith('restore 4/4 (100%), ') and '\r' not in first.stdout
    assert ' items/s, ' in progress[-1] and ', ETA: ' in progress[-1]
    assert len(progress) <= 3, progress  # the first item, the last, at most one 30 s line
    # the summary's numbers are the run's counts
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['boxes'] == sum(len(b) for b in json.load(
        open(osp.join(deid_sample, 'faces.json'))).values()) > 0
    assert f"  {summary['boxes']} faces restored; boxes from builder" in first.stdout
    assert '  skipped: 0 already there, 0 failed;' in first.stdout
    again = run_tool(args, timeout=600)
    assert 'restored 0 images' in again.stdout + again.stderr and '4 already there' in (
        again.stdout + again.stderr)
    assert '  skipped: 4 already there, 0 failed;' in again.stdout


@pytest.mark.slow
def test_restore_tool_names_a_missing_dataset_folder(tiny_weights, tmp_path):
    result = run_tool(
        [sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights, '--deid-dir',
         str(tmp_path), '--strength', '8', '--out', str(tmp_path / 'o')], timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == ('restore.py: error: annotation file not '
                                                      f'found: {tmp_path}/annotations/'
                                                      'person_keypoints.json')
    assert 'Traceback' not in result.stderr


def scored_child(config, deid_sample, folder, extra=''):
    """A child of ``config`` on the sample, scored by a random small Keypoint R-CNN."""
    child = folder / f'child_{osp.basename(config)}'
    child.write_text(
        f"_base_ = ['{osp.join(REPO_ROOT, config)}']\n"
        f"data_root = '{deid_sample}'\n"
        "test_evaluator = [dict(type='DetectorAPMetric', pred_key='fake_gt', device='cpu',\n"
        "                       detector=dict(weights=None, min_size=128, max_size=192,\n"
        "                                     box_detections_per_img=5))]\n" + extra)
    return str(child)


def restored_images(folder):
    return {osp.relpath(p, folder): read_rgb(p)
            for p in sorted(glob.glob(osp.join(folder, '**', '*.png'), recursive=True))}


@pytest.mark.slow
def test_test_tool_restores_as_the_restore_tool(deid_sample, tiny_weights, tmp_path):
    """A model trained on face crops: ``tools/test.py --out`` (the val/test step, which also
    picks the best checkpoint) writes the pixels of ``tools/restore.py --deid-dir`` (Table 1's
    model rows) exactly: region mode, one code path."""
    tested = tmp_path / 'tested'
    result = run_tool([sys.executable, 'tools/test.py',
                       scored_child(TINY_CONFIG, deid_sample, tmp_path), tiny_weights,
                       '--work-dir', str(tmp_path / 'w'), '--out', str(tested)])
    assert result.returncode == 0, result.stderr[-3000:]
    restored = tmp_path / 'restored'
    result = run_tool([sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights,
                       '--deid-dir', deid_sample, '--strength', '8', '--out', str(restored)])
    assert result.returncode == 0, result.stderr[-3000:]
    by_test = restored_images(str(tested / 'images' / 's8'))
    by_restore = restored_images(str(restored))
    assert by_test.keys() == by_restore.keys() and len(by_test) == 4
    for name, image in by_test.items():
        np.testing.assert_array_equal(image, by_restore[name], err_msg=name)
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    changed = [name for name in faces if faces[name] and not np.array_equal(
        by_test[osp.splitext(name)[0] + '.png'],
        read_rgb(osp.join(deid_sample, 'mosaic', 's8', osp.splitext(name)[0] + '.png')))]
    assert changed, 'the faces were restored'


@pytest.mark.slow
def test_test_tool_restores_whole_images_for_a_model_trained_on_them(deid_sample, tiny_weights,
                                                                      tmp_path):
    """The tiny model with the resize256 config's training pipeline (whole images resized):
    ``tools/test.py`` restores the whole image, as ``tools/restore.py`` does for it."""
    resize = Config.fromfile(osp.join(REPO_ROOT, RESIZE_CONFIG))
    assert default_mode(resize) == WHOLE
    pipeline = resize.to_dict()['train_dataloader']['dataset']['pipeline']
    child = scored_child(TINY_CONFIG, deid_sample, tmp_path,
                         f'train_dataloader = dict(dataset=dict(pipeline={pipeline!r}))\n')
    assert default_mode(Config.fromfile(child)) == WHOLE
    tested = tmp_path / 'tested'
    result = run_tool([sys.executable, 'tools/test.py', child, tiny_weights,
                       '--work-dir', str(tmp_path / 'w'), '--out', str(tested)])
    assert result.returncode == 0, result.stderr[-3000:]
    model = init_model(TINY_CONFIG, tiny_weights)
    restorer = model_restorer(model)
    for name, image in restored_images(str(tested / 'images' / 's8')).items():
        mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's8', name))
        np.testing.assert_array_equal(image, restore_whole(mosaic, restorer), err_msg=name)


def test_restorer_threads_and_batches_give_the_same_pixels(tiny_weights):
    """``workers`` threads with one intra-op thread each and any batch size restore the same
    pixels as one call per crop (float rounding at most); the caller's thread count and the
    model's train/eval modes are left as they were."""
    model = init_model(TINY_CONFIG, tiny_weights)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
             for size in (32, 64, 32, 64, 32, 96, 32)]
    one_by_one = [model_restorer(model, batch_size=1, workers=1)([c])[0] for c in crops]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the suite runs with 1: a leak to 1 must show
    model.train()
    model.generators['gt'].eval()  # a mixed state must come back as it was
    try:
        batched = model_restorer(model, batch_size=2, workers=2)(crops)
        in_new_thread = []
        thread = threading.Thread(target=lambda: in_new_thread.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert torch.get_num_threads() == 2 and in_new_thread == [2]
    finally:
        torch.set_num_threads(threads)
    assert model.training and not model.generators['gt'].training
    for a, b in zip(one_by_one, batched):
        assert a.shape == b.shape and np.abs(a.astype(int) - b).max() <= 1
