"""The package imports light, exposes its version, and registers into mmagic's registry tree."""
import subprocess
import sys

HEAVY_MODULES = ('mmagic.models', 'diffusers', 'transformers', 'mmdet.models', 'mmpose.models')


def test_import_rdid_mm_stays_light():
    code = ('import sys, rdid_mm; '
            f'print([m for m in {HEAVY_MODULES!r} if m in sys.modules]); '
            'print(rdid_mm.__version__)')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    loaded, version = result.stdout.strip().splitlines()
    assert loaded == '[]', f'import rdid_mm pulled in {loaded}'
    assert version.count('.') == 2


def test_registries_are_children_of_mmagic_with_scope_rdid_mm():
    from mmagic.registry import MODELS as MMAGIC_MODELS

    from rdid_mm import registry
    assert registry.MODELS.scope == 'rdid_mm'
    assert registry.MODELS.parent is MMAGIC_MODELS
    assert registry.FACE_SOURCES.scope == 'rdid_mm'
    # a child finds its parents' modules: mmagic's CycleGAN through rdid_mm's registry
    assert registry.MODELS.get('CycleGAN').__module__.startswith('mmagic.')


def test_register_all_modules_sets_the_default_scope():
    from mmengine import DefaultScope

    from rdid_mm.engine import register_all_modules
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'rdid_mm'
