"""Every registry a Runner builds from under scope 'rdid_mm' has an rdid_mm child."""
import pytest
from mmengine import registry as mmengine_registry

from rdid_mm import registry


@pytest.mark.parametrize('name', ['LOG_PROCESSORS', 'RUNNER_CONSTRUCTORS', 'WEIGHT_INITIALIZERS',
                                  'RUNNERS', 'HOOKS', 'LOOPS', 'VISUALIZERS'])
def test_scope_rdid_mm_is_found_in_the_registry_tree(name):
    # MMEngine's Runner builds e.g. log_processor from mmengine's root registry with the default
    # scope; without an rdid_mm child it warns "Failed to search registry with scope rdid_mm".
    root = getattr(mmengine_registry, name)
    with root.switch_scope_and_registry('rdid_mm') as found:
        assert found.scope == 'rdid_mm'
        assert found is getattr(registry, name)


def test_log_processor_builds_without_the_scope_warning(capsys):
    from mmengine import DefaultScope
    from mmengine.runner import LogProcessor
    DefaultScope.get_instance('test_registry_log_processor', scope_name='rdid_mm')
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        processor = mmengine_registry.LOG_PROCESSORS.build(dict(type='LogProcessor'))
    assert isinstance(processor, LogProcessor)
    assert 'Failed to search registry' not in capsys.readouterr().out
