"""Fixtures of the dataset tests: a private, editable copy of the de-identified sample."""
import shutil

import pytest

import rdid_mm  # noqa: F401  (its numpy 2 shim must precede any mmagic import)


@pytest.fixture
def deid_copy(deid_sample, tmp_path):
    """A copy of the builder's output that a test may break."""
    return shutil.copytree(deid_sample, tmp_path / 'deid', symlinks=False)


@pytest.fixture
def rdid_scope():
    from mmengine.registry import DefaultScope

    import rdid_mm.datasets  # noqa: F401
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        yield
