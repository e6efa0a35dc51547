"""The mosaic localiser against ground truth: the builder's faces.json and deface's rectangles."""
import cv2
import numpy as np
import pytest

from rdid_mm.restore import locate_mosaics
from rdid_mm.utils.boxes import xywh_iou

from tests.helpers import load_tool

mosaic_reference = load_tool('analysis_tools/mosaic_reference')
score_detections = mosaic_reference.score_detections
union_of_overlapping = mosaic_reference.union_of_overlapping


def _score(cases):
    scored = [dict(name=c['name'], targets=c['targets'],
                   found=[m.to_list() for m in locate_mosaics(c['image'])]) for c in cases]
    return score_detections(scored)


@pytest.mark.parametrize('quality', [None, 90, 75, 60])
def test_builder_mosaics_meet_the_target(builder_cases, quality):
    """PNG and JPEG 90, 75 and 60, strengths 4-16 on the sample: >= 95% recall at IoU 0.5, >= 90%
    precision; block size within 1 px of the effective pitch for all hits but at most one
    (measured: 20/20, 19/20, 20/20, 18/19)."""
    result = _score(builder_cases[quality])
    assert result['targets'] == 20
    assert result['recall'] >= 0.95, result['misses']
    assert result['precision'] >= 0.90, result['false_positives']
    assert result['block_accuracy'] >= 0.94


def test_jpeg_blockiness_separates_compressed_copies(builder_cases):
    """The strongly filtered pass runs on the JPEG 60 copies and not on the PNG mosaics."""
    import inspect

    from rdid_mm.restore.localiser import jpeg_blockiness, luma
    threshold = inspect.signature(locate_mosaics).parameters['min_blockiness'].default
    png = [jpeg_blockiness(luma(c['image'])) for c in builder_cases[None]]
    q60 = [jpeg_blockiness(luma(c['image'])) for c in builder_cases[60]]
    assert max(png) < threshold <= min(q60), (max(png), min(q60))


@pytest.mark.slow
def test_deface_mosaics_meet_the_target(deface_cases):
    """deface's rectangles of at least two squares a side: >= 90% recall, >= 90% precision
    (a detection may match any drawn rectangle, or the union of overlapping ones)."""
    scored = []
    for case in deface_cases:
        size = case['size']
        targets = [r for r in case['drawn'] if r[2] >= 2 * size and r[3] >= 2 * size]
        scored.append(dict(name=case['name'], targets=targets,
                           allowed=list(case['drawn']) + union_of_overlapping(case['drawn']),
                           found=[m.to_list() for m in locate_mosaics(case['image'])]))
    result = score_detections(scored)
    assert result['targets'] >= 30
    assert result['recall'] >= 0.90, result['misses']
    assert result['precision'] >= 0.90, result['false_positives']


def _flat_scenes():
    rng = np.random.default_rng(0)
    h, w = 240, 320
    sky = np.zeros((h, w, 3), np.uint8)
    sky[..., 0] = np.linspace(90, 140, h)[:, None]
    sky[..., 1] = np.linspace(150, 190, h)[:, None]
    sky[..., 2] = 235
    wall = np.full((h, w, 3), (200, 190, 170), np.uint8)
    noisy_wall = np.clip(wall + rng.normal(0, 2, wall.shape), 0, 255).astype(np.uint8)
    scenes = {'sky': sky, 'wall': wall, 'noisy wall': noisy_wall}
    for line in (cv2.LINE_8, cv2.LINE_AA):
        text = np.full((h, w, 3), (250, 250, 250), np.uint8)
        for row, scale in enumerate((0.6, 1.0, 1.6, 2.4)):
            cv2.putText(text, 'EXIT 42 HELLO', (5, 40 + 55 * row), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, (10, 10, 10), 2, line)
        scenes[f'text {line}'] = text
        sign = np.full((h, w, 3), (30, 110, 40), np.uint8)
        cv2.putText(sign, 'LH 1234', (10, 140), cv2.FONT_HERSHEY_DUPLEX, 2.5, (255, 255, 255), 5,
                    line)
        scenes[f'sign {line}'] = sign
    return scenes


@pytest.mark.parametrize('quality', [None, 90, 75, 60])
def test_flat_content_and_text_are_not_mosaics(quality):
    for name, image in _flat_scenes().items():
        if quality is not None:
            ok, data = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        assert locate_mosaics(image) == [], name


@pytest.mark.parametrize('scale,quality', [
    (s, q) if (s, q) != (1.0, 40) else pytest.param(s, q, marks=pytest.mark.xfail(
        strict=True, reason='the learned detector: a 27 x 32 px low-contrast box on 000000040083 '
        'at JPEG 40, below the JPEG 60 it was trained on (the lattice alone finds none)'))
    for s in (1.0, 0.5) for q in (None, 90, 75, 60, 40)])
def test_unpixelated_photos_have_no_mosaic(deid_sample, quality, scale):
    """The sample's photos, also at half size, as PNG and JPEG down to 40: no mosaic (at 40
    JPEG's own 8 x 8 grid is strong enough to pass for one)."""
    import glob
    import os.path as osp

    from .conftest import jpeg, read_rgb
    for path in sorted(glob.glob(osp.join(deid_sample, 'gt', '*'))):
        image = read_rgb(path)
        if scale != 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if quality is not None:
            image = jpeg(image, quality)
        assert locate_mosaics(image) == [], (path, scale, quality)


def test_grid_phase_and_pitch_of_a_synthetic_mosaic():
    """A 100x60 mosaic of 10 px blocks whose grid starts 3 px into the box."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    blocks = rng.integers(0, 256, (7, 12, 3), dtype=np.uint8)
    mosaic = np.repeat(np.repeat(blocks, 10, axis=0), 10, axis=1)[7:67, 7:107]
    image[50:110, 80:180] = mosaic
    found = locate_mosaics(image)
    assert len(found) == 1
    m = found[0]
    assert (m.x, m.y, m.w, m.h) == (80, 50, 100, 60)
    assert abs(m.pitch_x - 10) < 0.1 and abs(m.pitch_y - 10) < 0.1
    assert abs(m.phase_x - 3) < 0.6 and abs(m.phase_y - 3) < 0.6


def _noise_with_mosaic(box, pitch, seed=0):
    """Grey noise (smoothed, as a photo) with a ``pitch`` px mosaic over ``(x, y, w, h)``."""
    rng = np.random.default_rng(seed)
    image = cv2.GaussianBlur(rng.uniform(0, 255, (160, 200)).astype(np.float32), (0, 0), 1.5)
    x, y, w, h = box
    cells = rng.uniform(30, 220, (h // pitch, w // pitch))
    image[y:y + h, x:x + w] = np.kron(cells, np.ones((pitch, pitch)))
    return image


def test_a_box_cut_short_grows_along_its_lattice():
    """Half of an 8 px mosaic grows block by block to the whole of it, and no further."""
    from rdid_mm.restore.localiser import Mosaic, _grow_along_lattice
    image = _noise_with_mosaic((40, 32, 96, 64), 8)
    half = Mosaic(40, 32, 48, 64, 8.0, 1.0, 8.0, 8.0, 0.0, 0.0)
    grown = _grow_along_lattice(image, half)
    assert (grown.x, grown.y, grown.w, grown.h) == (40, 32, 96, 64)
    assert grown.phase_x == 0 and grown.phase_y == 0


def test_pieces_on_one_lattice_merge_and_other_lattices_do_not():
    """Touching boxes with one pitch and continuing lines are one mosaic; shifted lines are not."""
    from rdid_mm.restore.localiser import Mosaic, _merge_pieces
    left = Mosaic(40, 32, 48, 64, 8.0, 1.0, 8.0, 8.0, 0.0, 0.0)
    right = Mosaic(88, 32, 48, 64, 8.0, 0.9, 8.0, 8.0, 0.0, 0.0)
    merged = _merge_pieces([left, right])
    assert [(m.x, m.y, m.w, m.h) for m in merged] == [(40, 32, 96, 64)]
    shifted = right._replace(x=92, phase_x=0.0)  # lines 4 px (half a block) off
    assert len(_merge_pieces([left, shifted])) == 2
    other_pitch = right._replace(pitch_x=10.0, pitch_y=10.0, block_size=10.0)
    assert len(_merge_pieces([left, other_pitch])) == 2


def test_a_lattice_stops_at_a_neighbouring_mosaics_lines():
    """Two mosaics 9 px apart (pitches 11 and 12) pass for one lattice of pitch 10.7 with a line
    missing; the strong line of the second one between its lines cuts the lattice there."""
    from rdid_mm.restore.localiser import _fit_lattice
    positions = np.array([50.0, 61, 72, 83, 92, 104, 116])
    heights = np.array([27.8, 20.8, 76.3, 40.0, 40.8, 16.1, 20.6])
    pitch, anchor, ks, _ = _fit_lattice(positions, heights, 3.0, 48.0)
    lines = anchor + ks * pitch
    assert len(lines) == 4 and np.allclose(lines, [50, 61, 72, 83], atol=0.5)
    assert abs(pitch - 11) < 0.2


def test_two_neighbouring_mosaics_of_about_one_pitch_are_two_boxes():
    """3 x 3 blocks of 11 and 12 px side by side, 9 px apart, their row lines in line: one box
    each (before, one box spanned both)."""
    rng = np.random.default_rng(4)
    image = cv2.GaussianBlur(rng.uniform(0, 255, (120, 200)).astype(np.float32), (0, 0), 1.5)
    boxes = [(40, 30, 33, 33), (82, 30, 36, 33)]
    for x, _, w, h in boxes:
        image[30:30 + h, x:x + w] = np.kron(rng.uniform(30, 220, (3, 3)), np.ones((11, w // 3)))
    found = locate_mosaics(np.round(image).astype(np.uint8))
    assert len(found) == 2
    for box in boxes:
        assert max(xywh_iou(box, m.to_list()) for m in found) >= 0.5, (box, found)
