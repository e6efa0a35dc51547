"""OpenMMLab's ``mim`` finds the configs: the metafiles list every config (and only existing ones),
``setup.py`` puts configs/, tools/ and model-index.yml into ``rdid_mm/.mim/``, and a non-editable
install runs ``mim train rdid_mm CONFIG`` from its own copy."""
import glob
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO_ROOT

CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
TINY = 'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py'
#: what a source tree needs to build the package (copied, so the build never writes into the
#: checkout: setup.py fills rdid_mm/.mim/ beside the sources, as mmagic's does)
SOURCE_FILES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml', 'requirements',
                'rdid_mm', 'configs', 'tools')


def load_yaml(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def metafiles():
    return sorted(glob.glob(osp.join(CONFIG_DIR, '*', 'metafile.yml')))


def model_entries():
    """(metafile, entry) for every model of every metafile."""
    return [(path, model) for path in metafiles() for model in load_yaml(path)['Models']]


def listed_configs():
    """Every config a config folder holds, _base_ left out, relative to the repository root."""
    paths = glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    return sorted(osp.relpath(p, REPO_ROOT) for p in paths
                  if '_base_' not in osp.relpath(p, CONFIG_DIR).split(osp.sep))


def load_setup_module():
    """setup.py as a module, without running setup() (it runs under ``__main__`` only)."""
    spec = importlib.util.spec_from_file_location('rdid_mm_setup', osp.join(REPO_ROOT, 'setup.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_index_imports_every_metafile():
    imported = load_yaml(osp.join(REPO_ROOT, 'model-index.yml'))['Import']
    assert sorted(imported) == [osp.relpath(p, REPO_ROOT) for p in metafiles()]
    assert len(metafiles()) >= 3


def test_every_config_is_listed_once_and_every_entry_names_an_existing_config():
    entries = model_entries()
    configs = [model['Config'] for _, model in entries]
    assert sorted(configs) == listed_configs(), 'configs/ and the metafiles disagree'
    names = [model['Name'] for _, model in entries]
    assert len(set(names)) == len(names)
    for path, model in entries:
        assert osp.isfile(osp.join(REPO_ROOT, model['Config'])), (path, model['Config'])
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]


def test_every_entry_is_in_a_collection_of_its_metafile_and_readmes_exist():
    for path in metafiles():
        data = load_yaml(path)
        collections = {c['Name'] for c in data['Collections']}
        for model in data['Models']:
            assert model['In Collection'] in collections, (path, model['Name'])
            # no weights are published yet; an entry gets Weights and Results once measured
            assert 'Weights' not in model and not model.get('Results'), (path, model['Name'])
        for collection in data['Collections']:
            if 'README' in collection:
                assert osp.isfile(osp.join(REPO_ROOT, collection['README'])), collection


def test_mim_reads_the_index():
    from modelindex.load_model_index import load
    index = load(osp.join(REPO_ROOT, 'model-index.yml'))
    index.build_models_with_collections()
    assert sorted(m.config for m in index.models) == listed_configs()


def test_config_file_names_are_unique():
    """``mim train rdid_mm NAME.py`` looks a config up by its file name in the whole package."""
    names = [osp.basename(p) for p in listed_configs()]
    assert len(set(names)) == len(names)


def fake_repo(root):
    for folder in ('configs/rdid_gan', 'tools/gpu_check/carry', 'tools/__pycache__', 'rdid_mm'):
        os.makedirs(osp.join(root, folder))
    for name in ('configs/rdid_gan/a.py', 'tools/train.py', 'tools/gpu_check/carry/x.whl',
                 'tools/__pycache__/train.cpython-311.pyc', 'model-index.yml'):
        with open(osp.join(root, name), 'w') as f:
            f.write(name)
    return osp.join(root, 'rdid_mm', '.mim')


def test_add_mim_extension_links_for_editable_installs_and_copies_for_wheels(tmp_path,
                                                                            monkeypatch):
    setup_module = load_setup_module()
    mim = fake_repo(str(tmp_path))
    monkeypatch.setattr(sys, 'argv', ['setup.py', 'egg_info'])
    setup_module.add_mim_extension(repo_path=str(tmp_path))  # no build command: nothing
    assert not osp.exists(mim)

    monkeypatch.setattr(sys, 'argv', ['setup.py', 'editable_wheel', '--dist-dir', 'x'])
    setup_module.add_mim_extension(repo_path=str(tmp_path))
    for name in ('configs', 'tools', 'model-index.yml'):
        assert os.readlink(osp.join(mim, name)) == osp.join('..', '..', name)
    assert open(osp.join(mim, 'configs', 'rdid_gan', 'a.py')).read() == 'configs/rdid_gan/a.py'

    monkeypatch.setattr(sys, 'argv', ['setup.py', 'bdist_wheel', '--dist-dir', 'x'])
    setup_module.add_mim_extension(repo_path=str(tmp_path))  # replaces the links by copies
    for name in ('configs', 'tools', 'model-index.yml'):
        assert not osp.islink(osp.join(mim, name))
    assert osp.isfile(osp.join(mim, 'configs', 'rdid_gan', 'a.py'))
    assert osp.isfile(osp.join(mim, 'tools', 'train.py'))
    assert not osp.exists(osp.join(mim, 'tools', 'gpu_check', 'carry'))
    assert not osp.exists(osp.join(mim, 'tools', '__pycache__'))

    # a wheel built from an sdist: no configs/ beside setup.py, its .mim/ copy stays
    shutil.rmtree(osp.join(tmp_path, 'configs'))
    setup_module.add_mim_extension(repo_path=str(tmp_path))
    assert osp.isfile(osp.join(mim, 'configs', 'rdid_gan', 'a.py'))


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``pip install --no-deps --no-build-isolation --target TARGET`` of a copy of the sources
    (not editable); returns TARGET."""
    root = tmp_path_factory.mktemp('mim_install')
    source, target = root / 'source', root / 'target'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', 'carry', '*.egg-info')
    source.mkdir()
    for name in SOURCE_FILES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy(path, source / name)
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps',
         '--no-build-isolation', '--no-compile', '--target', str(target), str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return osp.realpath(str(target))


def run_installed(args, target, cwd, timeout=600):
    """Run with the installed copy first on PYTHONPATH (not the checkout, not the editable
    install), from a folder outside the checkout."""
    env = {**os.environ, 'PYTHONPATH': target}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=str(cwd))


@pytest.mark.slow
def test_a_wheel_ships_configs_tools_and_model_index_as_files(installed, tmp_path):
    mim = osp.join(installed, 'rdid_mm', '.mim')
    for path in ['model-index.yml', 'tools/train.py', 'tools/dist_train.sh',
                 'tools/analysis_tools/benchmark_eval.py', 'tools/gpu_check/gpu_check.py',
                 'tools/gpu_check/requirements.txt', 'configs/_base_/default_runtime.py',
                 *(osp.relpath(p, REPO_ROOT) for p in metafiles()), *listed_configs()]:
        assert osp.isfile(osp.join(mim, path)) and not osp.islink(osp.join(mim, path)), path
    result = run_installed([sys.executable, '-c', 'import rdid_mm; print(rdid_mm.__file__)'],
                           installed, tmp_path)
    assert result.stdout.strip() == osp.join(installed, 'rdid_mm', '__init__.py'), result.stderr


@pytest.mark.slow
def test_mim_search_lists_the_installed_configs(installed, tmp_path):
    result = run_installed([sys.executable, '-m', 'mim', 'search', 'rdid_mm'], installed,
                           tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for config in listed_configs():
        assert f'config id: {osp.splitext(osp.basename(config))[0]}\n' in result.stdout


@pytest.mark.slow
def test_mim_train_runs_the_installed_tiny_config_for_two_iterations(installed, deid_sample,
                                                                    tmp_path):
    work_dir = tmp_path / 'work'
    # data_root reaches the datasets through the config's loops; the run's folder has no data/,
    # so the tiny config's own default (data/deid_sample) would fail
    result = run_installed(
        [sys.executable, '-m', 'mim', 'train', 'rdid_mm', TINY, '--work-dir', str(work_dir),
         '--cfg-options', f'data_root={deid_sample}', 'train_cfg.max_iters=2'],
        installed, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mim = osp.join(installed, 'rdid_mm', '.mim')
    config = osp.join(mim, 'configs', 'rdid_gan', TINY)
    assert f"we find the config file in codebase rdid_mm, will use {config} instead" \
        in result.stdout
    assert f"{osp.join(mim, 'tools', 'train.py')} {config} --launcher none" in result.stdout
    assert osp.isfile(work_dir / 'iter_2.pth') and osp.isfile(work_dir / 'iter_2.safetensors')
    assert not osp.exists(work_dir / 'iter_4.pth')
