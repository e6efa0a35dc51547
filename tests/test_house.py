"""The house rules that code structure can break: evaluation imports nothing above it, the
registering import is light, one atomic write and one box helper."""
import pytest
import ast
import glob
import os.path as osp
import subprocess
import sys

from tests.conftest import REPO_ROOT

PACKAGE = osp.join(REPO_ROOT, 'rdid_mm')
FORBIDDEN_FOR_EVALUATION = ('rdid_mm.apis', 'rdid_mm.deid', 'rdid_mm.restore', 'rdid_mm.privacy')


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
    loaded = _modules_after('from rdid_mm.utils import register_all_modules\n'
                            'register_all_modules()')
    unwanted = {'rdid_mm.apis', 'rdid_mm.reports.table1', 'rdid_mm.reports.table_rows', 'rdid_mm.reports.strength_plot',
                'rdid_mm.reports.qualitative_grid', 'rdid_mm.deid.builder', 'rdid_mm.deid.summary',
                'rdid_mm.deid.video', 'rdid_mm.evaluation.benchmark'}
    assert not unwanted & loaded, sorted(unwanted & loaded)
    assert {'rdid_mm.models.rdid_gan', 'rdid_mm.evaluation.metrics.keypoint_rcnn_metric',
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
    for old in ('deid/atomic.py', 'evaluation/files.py', 'deid/image_io.py', 'deid/layout.py',
                'evaluation/deid_layout.py', 'models/hooks', 'evaluation/hooks'):
        assert not osp.exists(osp.join(PACKAGE, old)), old
