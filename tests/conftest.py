"""Shared fixtures: the real COCO sample beside the checkout, and a de-identified copy of it."""
import os
import os.path as osp

import pytest

import rdid_mm  # noqa: F401  (the numpy shims, before any test module imports mmagic)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Tools run as subprocesses import test-only hooks (``custom_imports = ['tests.engine...']``): a
# script's sys.path starts at tools/, so the checkout goes on PYTHONPATH for every subprocess.
os.environ['PYTHONPATH'] = os.pathsep.join(
    p for p in (REPO_ROOT, os.environ.get('PYTHONPATH', '')) if p)
SAMPLE_DIR = os.environ.get(
    'RDID_SAMPLE', osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'coco_person_sample'))


#: The files with the longest setup or tests (the suite's --durations on the 2-core machine: the
#: localiser's evaluation set 190 s, the demo 56 s, the GPU kit's dry run 40 s, training 38 s, the
#: downstream table 33 s). They are collected first, so that ``--dist loadfile`` hands them out
#: first and the two workers finish together, rather than one running a long file handed out last
#: (2026-12-07, idle 2-core machine: 739 s in CI's fresh clone before, 705 s with these first; every
#: file with a slow test first instead, 766 s).
LONGEST_FIRST = ('tests/tools/analysis_tools/test_localiser_cases.py', 'tests/tools/test_demo.py',
                 'tests/tools/test_gpu_check.py', 'tests/models/test_training.py',
                 'tests/reports/test_downstream.py')


def pytest_collection_modifyitems(config, items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(osp.relpath(str(item.fspath), REPO_ROOT), len(rank)))


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: takes 3 s or more on 2 cores, or shares a fixture '
                            'that does (left out of the fast tier)')


def _restoring_default_scope():
    from mmengine.registry import DefaultScope
    before = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = before


@pytest.fixture(autouse=True)
def keep_default_scope():
    """Give each test the default scope it started with.

    Tests call mmdet's and mmpose's own APIs to check our wrappers against them, and those make
    their scope current for the rest of the process (mmengine's ``init_default_scope``): every
    later test that builds ``type='CBAM'`` would then look in mmpose's registry.
    """
    yield from _restoring_default_scope()


@pytest.fixture(autouse=True, scope='module')
def keep_default_scope_per_module():
    """The same for module-scoped fixtures, which set up before (and outlive) the one above:
    without it a module fixture's mmpose scope reaches the next test file run by the same worker."""
    yield from _restoring_default_scope()


@pytest.fixture(scope='session')
def sample_dir():
    """``../shared/data/coco_person_sample`` (or ``$RDID_SAMPLE``): 4 COCO val2017 images."""
    if not osp.isdir(SAMPLE_DIR):
        pytest.fail(f'the shared COCO sample is missing: {SAMPLE_DIR}')
    return SAMPLE_DIR


@pytest.fixture(scope='session')
def sample_ann_file(sample_dir):
    return osp.join(sample_dir, 'annotations', 'test_coco.json')


@pytest.fixture(scope='session')
def sample_wholebody_ann_file(sample_dir):
    return osp.join(sample_dir, 'annotations', 'test_coco_wholebody.json')


@pytest.fixture(scope='session')
def sample_img_dir(sample_dir):
    return osp.join(sample_dir, 'val2017')


@pytest.fixture(scope='session')
def deid_sample(tmp_path_factory, sample_ann_file, sample_wholebody_ann_file, sample_img_dir):
    """The builder's output for the sample at strengths 8 and 16 (WholeBody face boxes).

    Returns the output folder: ``gt/``, ``mosaic/s8``, ``mosaic/s16``, ``annotations/``,
    ``faces.json``, ``summary.json``.
    """
    from rdid_mm.deid import build_deid_dataset
    out_dir = tmp_path_factory.mktemp('deid_sample') / 'val2017'
    build_deid_dataset(
        ann_file=sample_ann_file, img_dir=sample_img_dir, out_dir=str(out_dir),
        strengths=(8, 16), face_sources=('wholebody', ), wholebody_ann=sample_wholebody_ann_file,
        workers=0)
    return str(out_dir)
