"""DSFD through face-detection, from a local weights file (no download)."""
import os
import os.path as osp
import warnings

import numpy as np
import pytest
import torch

from rdid_mm.deid.face_sources import DSFDSource, build_face_source
from rdid_mm.deid.face_sources.dsfd import DSFD_WEIGHTS_NAME, default_dsfd_weights_path


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path / 'torch_home'


def test_missing_weights_error_says_where_they_are_expected(torch_home):
    expected = osp.join(str(torch_home), 'hub', 'checkpoints', DSFD_WEIGHTS_NAME)
    assert default_dsfd_weights_path() == expected
    source = build_face_source('dsfd')
    with pytest.raises(FileNotFoundError) as err:
        source(np.zeros((64, 64, 3), np.uint8))
    assert expected in str(err.value) and 'WIDERFace_DSFD_RES152.pth' in str(err.value)


def random_dsfd_state_dict():
    """Random weights with the architecture's names and shapes (built on the meta device, so
    without a second real network); zero box regression, so boxes are the prior boxes."""
    from face_detection.dsfd.config import resnet152_model_config
    from face_detection.dsfd.face_ssd import SSD
    with warnings.catch_warnings(), torch.device('meta'):
        warnings.simplefilter('ignore', UserWarning)
        shapes = SSD(resnet152_model_config).state_dict()
    # one random buffer, tiled: generating 120M normal samples takes seconds on 2 cores
    noise = torch.randn(1 << 20, generator=torch.Generator().manual_seed(0)) * 0.05
    state_dict = {}
    for key, meta in shapes.items():
        if key.endswith('num_batches_tracked'):
            value = torch.zeros(meta.shape, dtype=meta.dtype)
        elif key.endswith('running_var'):
            value = torch.ones(meta.shape)
        elif key.startswith('loc.') or key.endswith(('running_mean', 'bias')):
            value = torch.zeros(meta.shape)
        else:
            value = noise.repeat(meta.numel() // noise.numel() + 1)[:meta.numel()].reshape(
                meta.shape).clone()
        state_dict[key] = value
    return state_dict


@pytest.mark.slow
def test_image_to_boxes_with_random_weights_at_the_expected_place(torch_home):
    state_dict = random_dsfd_state_dict()
    path = default_dsfd_weights_path()
    os.makedirs(osp.dirname(path))
    torch.save(state_dict, path)

    source = DSFDSource(score_thr=0.05, num_threads=2)
    image = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    detections = source(image)
    assert detections, 'random weights at a low threshold give some boxes'
    for x1, y1, x2, y2, score, name in detections:
        assert name == 'dsfd' and 0.05 <= score <= 1
        assert 0 <= x1 <= x2 <= 96 and 0 <= y1 <= y2 <= 64
    # the network holds the file's weights
    loaded = source.detector.net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state_dict.items())
