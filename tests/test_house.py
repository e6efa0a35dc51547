"""The house rules that code structure can break: data flows one way (no module imports a layer
above its own, not even inside a function), the registering import is light, one atomic write and
one box helper."""
import ast
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = osp.join(REPO_ROOT, 'rdid_mm')
FORBIDDEN_FOR_EVALUATION = ('rdid_mm.apis', 'rdid_mm.deid', 'rdid_mm.restore', 'rdid_mm.privacy')

#: the layer of each subpackage; a module may import its own layer or a lower one. Modules at the
#: package root (registry.py, layout.py, version.py) sit with utils at the bottom; tools/ is above.
LAYERS = {
    'utils': 0,
    'datasets': 1, 'deid': 1, 'models': 1,
    'evaluation': 2,
    'engine': 3,
    'restore': 4, 'privacy': 4,
    'reports': 5,
    'apis': 6,
}


def imported_modules(path: str, package: str = None):
    """Every module an ``import`` / ``from ... import`` names, at any depth (functions too),
    relative imports resolved against the file's package."""
    if package is None:
        package = osp.relpath(osp.dirname(path), REPO_ROOT).replace(osp.sep, '.')
    tree = ast.parse(open(path, encoding='utf-8').read(), filename=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split('.')
                base = parts[:len(parts) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ''
            yield module
            for alias in node.names:
                yield f'{module}.{alias.name}'
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'import_module':
            if node.args and isinstance(node.args[0], ast.Constant):
                yield node.args[0].value


def layer_of(module: str) -> int:
    """The layer of a dotted rdid_mm module name (a subpackage's, or 0 for the package root's);
    tools/ is above them all."""
    parts = module.split('.')
    if parts[0] == 'tools':
        return max(LAYERS.values()) + 1
    if len(parts) < 2 or parts[1] not in LAYERS:
        return 0
    return LAYERS[parts[1]]


def upward_imports(path: str, module: str):
    """``"FILE -> IMPORTED"`` for each import of ``path`` (the module ``module``) that names an
    rdid_mm module of a layer above ``module``'s, at any depth."""
    if osp.basename(path) == '__init__.py':
        package = module
    else:
        package = module.rpartition('.')[0]
    own = layer_of(module)
    found = set()
    for imported in imported_modules(path, package):
        if imported.split('.')[0] in ('rdid_mm', 'tools') and layer_of(imported) > own:
            found.add(f'{osp.relpath(path, REPO_ROOT)} -> {".".join(imported.split(".")[:3])}')
    return sorted(found)


def _package_modules():
    for path in sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)):
        name = osp.relpath(path, REPO_ROOT)[:-len('.py')].replace(osp.sep, '.')
        yield path, name[:-len('.__init__')] if name.endswith('.__init__') else name


def test_every_subpackage_has_a_layer():
    subpackages = {d for d in os.listdir(PACKAGE)
                   if osp.isfile(osp.join(PACKAGE, d, '__init__.py'))}
    assert subpackages <= set(LAYERS), sorted(subpackages - set(LAYERS))


def test_no_module_imports_a_layer_above_its_own():
    found = sorted(v for path, name in _package_modules() for v in upward_imports(path, name))
    assert not found, found


def test_the_layer_check_catches_a_planted_upward_import(tmp_path):
    probe = tmp_path / 'probe.py'
    cases = {
        # (source, the probe's module name): what upward_imports must report
        ('from rdid_mm.apis import train\n', 'rdid_mm.evaluation.probe'):
            ['rdid_mm.apis', 'rdid_mm.apis.train'],
        ('def f():\n    import rdid_mm.engine.runner\n', 'rdid_mm.models.probe'):
            ['rdid_mm.engine.runner'],
        ('from ...engine import checkpoint\n', 'rdid_mm.evaluation.metrics.probe'):
            ['rdid_mm.engine', 'rdid_mm.engine.checkpoint'],
        ('from tools.analysis_tools import benchmark_eval\n', 'rdid_mm.apis.probe'):
            ['tools.analysis_tools', 'tools.analysis_tools.benchmark_eval'],
        ('import importlib\nimportlib.import_module("rdid_mm.reports")\n', 'rdid_mm.privacy.probe'):
            ['rdid_mm.reports'],
        ('from rdid_mm import layout, registry\nfrom rdid_mm.engine import runner\n',
         'rdid_mm.utils.probe'): ['rdid_mm.engine', 'rdid_mm.engine.runner'],
        # the same layer, lower layers and the package root are allowed
        ('from rdid_mm.deid import pixelate\nfrom rdid_mm.layout import DeidLayout\n'
         'from ..utils import io\n', 'rdid_mm.datasets.probe'): [],
        ('from rdid_mm.privacy import audit\nfrom rdid_mm.engine import runner\n',
         'rdid_mm.restore.probe'): [],
    }
    for (source, module), expected in cases.items():
        probe.write_text(source)
        assert upward_imports(str(probe), module) == [f'{osp.relpath(probe, REPO_ROOT)} -> {m}'
                                                      for m in expected], source


def test_walker_sees_imports_inside_functions_and_relative_ones(tmp_path):
    probe = tmp_path / 'probe.py'
    probe.write_text('def f():\n    from rdid_mm.apis import test\n'
                     'from ..deid import builder\n')
    found = set(imported_modules(str(probe), package='rdid_mm.evaluation.metrics'))
    assert 'rdid_mm.apis' in found and 'rdid_mm.evaluation.deid' in found
    probe.write_text('from ...deid import builder\n')
    assert 'rdid_mm.deid' in set(imported_modules(str(probe), 'rdid_mm.evaluation.metrics'))


def test_evaluation_imports_nothing_above_it():
    offenders = []
    for path in glob.glob(osp.join(PACKAGE, 'evaluation', '**', '*.py'), recursive=True):
        for module in imported_modules(path):
            if module.startswith(FORBIDDEN_FOR_EVALUATION):
                offenders.append(f'{osp.relpath(path, REPO_ROOT)} imports {module}')
    assert not offenders, offenders


def _modules_after(code: str):
    code += '\nimport sys\nprint(sorted(sys.modules))'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(eval(result.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_register_all_modules_imports_only_registering_modules():
    loaded = _modules_after('from rdid_mm.engine import register_all_modules\n'
                            'register_all_modules()')
    unwanted = {'rdid_mm.apis', 'rdid_mm.reports', 'rdid_mm.restore', 'rdid_mm.privacy',
                'rdid_mm.deid.builder', 'rdid_mm.deid.summary', 'rdid_mm.deid.pixelate_video'}
    assert not unwanted & loaded, sorted(unwanted & loaded)
    assert {'rdid_mm.models.rdid_gan', 'rdid_mm.evaluation.metrics.detector_ap_metric',
            'rdid_mm.engine.hooks.reference_rows_hook', 'rdid_mm.datasets.deid_paired_dataset',
            'rdid_mm.deid.face_sources', 'rdid_mm.deid.pixelate'} <= loaded


@pytest.mark.slow
def test_models_do_not_import_the_table_orchestration():
    loaded = _modules_after('import rdid_mm.models')
    assert not {m for m in loaded if m.startswith('rdid_mm.apis')}


def test_one_atomic_write_and_one_box_helper():
    definitions = {}
    for path in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True):
        tree = ast.parse(open(path, encoding='utf-8').read())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                definitions.setdefault(node.name, []).append(osp.relpath(path, REPO_ROOT))
    assert definitions['box_to_slices'] == ['rdid_mm/utils/boxes.py']
    writers = {name: files for name, files in definitions.items()
               if 'atomic' in name and not name.startswith('_')}
    assert {f for files in writers.values() for f in files} == {'rdid_mm/utils/io.py'}, writers
    renames = [osp.relpath(p, REPO_ROOT)
               for p in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)
               if 'os.replace(' in open(p, encoding='utf-8').read()]
    assert renames == ['rdid_mm/utils/io.py'], renames
