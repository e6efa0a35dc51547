"""Fixtures of the model tests."""
import pytest

import rdid_mm  # noqa: F401  (its numpy 2 shim must precede any mmagic import)


@pytest.fixture
def rdid_scope():
    """Build in rdid_mm's default scope, as a config with default_scope='rdid_mm' does."""
    from mmengine.registry import DefaultScope

    import rdid_mm.models  # noqa: F401
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        yield
