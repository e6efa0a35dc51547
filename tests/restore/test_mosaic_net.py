"""The learned mosaic detector: its shipped weights, its maps and boxes, and what it adds to the
lattice localiser on a real photo."""
import os.path as osp

import cv2
import numpy as np
import pytest

from rdid_mm.restore import locate_mosaics
from rdid_mm.restore.mosaic_net import (
    MAX_CELL_NOISE,
    WEIGHTS,
    box_mosaic,
    boxes_from_maps,
    features,
    load_mosaic_net,
    mosaic_maps,
)
from rdid_mm.utils.boxes import xywh_iou

from tests.helpers import load_tool

cases = load_tool('analysis_tools/localiser_cases')


def test_weights_are_shipped_small(tmp_path):
    """A few thousand parameters, in the package: setuptools' build (what a wheel holds) copies the
    weights beside the module, and the copy loads."""
    import subprocess
    import sys

    import torch
    assert osp.getsize(WEIGHTS) < 300_000
    assert sum(p.numel() for p in load_mosaic_net().parameters()) < 50_000
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    subprocess.run([sys.executable, 'setup.py', '-q', 'build_py', '--build-lib', str(tmp_path)],
                   cwd=repo, check=True, capture_output=True)
    built = tmp_path / 'rdid_mm' / 'restore' / 'mosaic_net.pth'
    assert built.read_bytes() == open(WEIGHTS, 'rb').read()
    assert set(torch.load(built, weights_only=True)) == set(load_mosaic_net().state_dict())


@pytest.mark.parametrize('shape', [(64, 96), (65, 97)])
def test_maps_have_the_image_size(shape):
    inside, edge = mosaic_maps(np.zeros(shape, np.float32))
    assert inside.shape == edge.shape == shape
    assert 0 <= inside.min() and inside.max() <= 1


def test_maps_in_tiles_are_the_maps_of_the_whole_image():
    """Large images go through in tiles with a margin wider than the network's reach: the same
    maps (float rounding), also where a mosaic straddles a tile's edge."""
    rng = np.random.default_rng(0)
    y = cv2.GaussianBlur(rng.uniform(0, 255, (300, 430)).astype(np.float32), (0, 0), 2.0)
    y[100:164, 110:174] = np.kron(rng.uniform(30, 220, (8, 8)), np.ones((8, 8)))
    whole = mosaic_maps(y, tile=4096)
    tiled = mosaic_maps(y, tile=128)
    for a, b in zip(whole, tiled):
        assert np.abs(a - b).max() < 1e-4
    assert whole[0][120:150, 130:160].mean() > 0.5  # the mosaic is seen


def test_fast_forward_is_the_trained_network(sample_dir):
    """The forward pass applies the head's context part before upsampling (and runs channels-last):
    the logits of the network as trained (upsample, concatenate, 1 x 1 head) to float rounding, on
    a real photo."""
    import torch
    import torch.nn.functional as F
    net = load_mosaic_net()
    image = cv2.imread(osp.join(sample_dir, 'val2017', '000000000785.jpg'), cv2.IMREAD_GRAYSCALE)
    x = torch.from_numpy(features(image[:240, :320]))[None]
    with torch.no_grad():
        full = net.full(x)
        h = net.down(full)
        for conv in net.context:
            h = F.relu(h + conv(h))
        up = F.interpolate(h, size=full.shape[-2:], mode='bilinear', align_corners=False)
        reference = net.head(torch.cat([up, full], 1))
        fast = net(x.contiguous(memory_format=torch.channels_last))
    assert fast.shape == reference.shape == (1, 2, 240, 320)
    assert (fast - reference).abs().max() < 1e-4
    assert reference.abs().max() > 1  # not a trivial output


def test_edges_separate_touching_parts():
    """Two inside regions joined only through an edge band come out as two boxes, grown back by
    the band."""
    inside = np.zeros((40, 80), np.float32)
    inside[10:30, 10:70] = 1
    edge = np.zeros_like(inside)
    edge[:, 38:42] = 1
    boxes = [b[:4] for b in boxes_from_maps(inside, edge, min_side=8)]
    assert boxes == [(8, 8, 32, 24), (40, 8, 32, 24)]


def test_box_mosaic_fits_the_lattice_and_measures_flat_cells():
    """A 3 x 2 mosaic of 8 px blocks: pitch 8, cell noise about 0; the same box of texture is
    busier than a kept box may be."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (64, 64)).astype(np.float32), (0, 0), 1.0)
    image = texture.copy()
    image[20:36, 20:44] = np.kron(rng.uniform(30, 220, (2, 3)), np.ones((8, 8)))
    mosaic, noise = box_mosaic(image, (20, 20, 24, 16, 0.9))
    assert noise < 0.05
    assert abs(mosaic.pitch_x - 8) < 0.5 and abs(mosaic.pitch_y - 8) < 0.5
    assert box_mosaic(texture, (20, 20, 24, 16, 0.9))[1] > MAX_CELL_NOISE


#: A two-block mosaic (Pillow: bilinear down, nearest up; 8 px blocks) in a shared COCO photo,
#: after JPEG 60: the lattice finds nothing (one weak line each way), the network the box.
MISSED = dict(image='000000196141.jpg', pixelator='pillow', box=(192, 128, 16, 16), block=8,
              quality=60)


def _missed_case(sample_dir):
    image = cases._read_rgb(osp.join(sample_dir, 'val2017', MISSED['image']))
    out, drawn = cases.pixelate(MISSED['pixelator'], image, [MISSED['box']], MISSED['block'])
    return cases.jpeg(out, MISSED['quality']), drawn[0][:4]


def test_the_network_finds_a_mosaic_the_lattice_misses(sample_dir):
    image, box = _missed_case(sample_dir)
    lattice = [m.to_list() for m in locate_mosaics(image, learned=False)]
    assert not any(xywh_iou(box, d) >= 0.5 for d in lattice), lattice
    found = [m.to_list() for m in locate_mosaics(image)]
    assert any(xywh_iou(box, d) >= 0.5 for d in found), found


def test_a_box_only_the_network_found_is_dropped_where_it_looks_like_strokes():
    """Two far-apart tones (strokes on a solid colour) or a thin box are no face's mosaic; a
    mosaic of many levels is kept."""
    from rdid_mm.restore.localiser import Mosaic, _plausible_alone
    rng = np.random.default_rng(0)
    y = np.full((80, 120), 245, np.uint8)
    y[10:40, 10:40] = np.kron(rng.integers(40, 200, (3, 3)), np.ones((10, 10), np.uint8))
    cv2.putText(y, 'EXIT', (50, 35), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 10, 2, cv2.LINE_8)
    y = y.astype(np.float32)

    def box(x, y0, w, h):
        return Mosaic(x, y0, w, h, 10.0, 0.95, 10.0, 10.0, 0.0, 0.0)
    assert _plausible_alone(y, box(10, 10, 30, 30))
    assert not _plausible_alone(y, box(50, 12, 64, 26))  # the word: two tones 235 apart
    assert not _plausible_alone(y, box(10, 10, 12, 30))  # 2.5 times as long as wide


def test_locate_mosaics_tool_leaves_the_learned_detector_out_on_request(sample_dir, tmp_path):
    """``tools/locate_mosaics.py``: the boxes file holds the mosaic only the network finds;
    with ``--lattice-only`` it does not."""
    import json
    image, box = _missed_case(sample_dir)
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'missed.png'), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    tool = load_tool('locate_mosaics')
    for learned in (False, True):
        out = tmp_path / f'boxes_{learned}.json'
        tool.main([str(folder), '--out', str(out)] + ([] if learned else ['--lattice-only']))
        found = json.loads(out.read_text())['missed.png']
        assert any(xywh_iou(box, d) >= 0.5 for d in found) == learned, found


def test_the_restore_box_source_leaves_the_learned_detector_out_on_request(sample_dir):
    """``tools/restore.py --lattice-only`` (``restore_input(learned_localiser=False)``): the
    localiser source without the network, under its own label (a resumed run with the other
    setting is refused, its boxes differ)."""
    from rdid_mm.restore.box_sources import choose_box_source
    image, box = _missed_case(sample_dir)
    for learned in (True, False):
        source = choose_box_source(sample_dir, None, False, False, learned_localiser=learned)
        found = source.boxes('missed.png', image)
        assert any(xywh_iou(box, d) >= 0.5 for d in found) == learned, found
        assert source.label == ('localiser' if learned else 'localiser (lattice only)')
