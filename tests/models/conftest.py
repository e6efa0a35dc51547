"""Fixtures of the model tests."""
import pytest


@pytest.fixture
def rdid_scope():
    """Build in rdid_mm's default scope, as a config with default_scope='rdid_mm' does."""
    from mmengine.registry import DefaultScope

    import rdid_mm.models  # noqa: F401
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        yield
