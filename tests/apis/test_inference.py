"""Restoring images with a trained model: full resolution, faces only, files on disk."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from rdid_mm.apis import init_model, restore_image
from rdid_mm.utils.io import read_rgb
from rdid_mm.utils.boxes import box_to_slices
from tests.tools.test_train_test_tools import TINY_CONFIG
from tests.helpers import run_tool


@pytest.fixture(scope='module')
def tiny_weights(tmp_path_factory):
    """A weights file of the tiny RDID-GAN (random initialisation, as training starts)."""
    from rdid_mm.engine.checkpoint import save_state_dict_file
    model = init_model(TINY_CONFIG)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('weights') / 'tiny.safetensors')
    save_state_dict_file(model.state_dict(), path)
    return path


def test_restore_image_keeps_size_and_pixels_outside_the_faces(deid_sample, tiny_weights):
    model = init_model(TINY_CONFIG, tiny_weights)
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    name = next(n for n, boxes in faces.items() if boxes)
    mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's8', osp.splitext(name)[0] + '.png'))
    boxes = [box[:4] for box in faces[name]]

    whole = restore_image(model, mosaic)
    assert whole.shape == mosaic.shape and whole.dtype == np.uint8
    normalised = torch.from_numpy(mosaic).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        expected = ((model.restore_tensor(normalised) + 1) * 127.5).clamp(0, 255)
    difference = np.abs(whole - expected[0].permute(1, 2, 0).numpy())
    assert difference.max() <= 0.5 + 1e-3, 'the generator output, rounded to uint8'
    assert not np.array_equal(whole, mosaic)

    pasted = restore_image(model, mosaic, boxes)
    inside = np.zeros(mosaic.shape[:2], dtype=bool)
    for box in boxes:
        inside[box_to_slices(box, *mosaic.shape[:2])] = True
    assert np.array_equal(pasted[~inside], mosaic[~inside])
    assert np.array_equal(pasted[inside], whole[inside])


def test_restore_image_rejects_non_rgb_input(tiny_weights):
    model = init_model(TINY_CONFIG, tiny_weights)
    with pytest.raises(ValueError, match='expected an H x W x 3 uint8 RGB image'):
        restore_image(model, np.zeros((8, 8), dtype=np.uint8))


@pytest.mark.slow
def test_restore_tool_writes_every_image_and_resumes(deid_sample, tiny_weights, tmp_path):
    out = tmp_path / 'restored'
    args = [sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights, '--deid-dir',
            deid_sample, '--strength', '16', '--out', str(out)]
    first = run_tool(args, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    mosaics = sorted(os.listdir(osp.join(deid_sample, 'mosaic', 's16')))
    assert sorted(os.listdir(out)) == mosaics
    assert 'restored 4 images' in first.stdout + first.stderr
    for name in mosaics:
        mosaic = read_rgb(osp.join(deid_sample, 'mosaic', 's16', name))
        assert read_rgb(str(out / name)).shape == mosaic.shape
    again = run_tool(args, timeout=600)
    assert 'restored 0 images' in again.stdout + again.stderr and '4 already there' in (
        again.stdout + again.stderr)


@pytest.mark.slow
def test_restore_tool_names_a_missing_dataset_folder(tiny_weights, tmp_path):
    result = run_tool(
        [sys.executable, 'tools/restore.py', TINY_CONFIG, tiny_weights, '--deid-dir',
         str(tmp_path), '--strength', '8', '--out', str(tmp_path / 'o')], timeout=600)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'restore.py: error: annotation file not found: {tmp_path}/annotations/person_keypoints.json')
    assert 'Traceback' not in result.stderr
