"""Install rdid_mm: ``pip install -e .`` (the full stack: ``bash tools/install_env.sh``).

``pip install .`` (not editable) also ships ``configs/``, ``tools/`` and ``model-index.yml`` inside
the package, in ``rdid_mm/.mim/``, where OpenMMLab's ``mim`` looks for them:
``mim train rdid_mm CONFIG`` then finds the config by its file name and runs the packaged
``tools/train.py``. (An editable install links ``rdid_mm/.mim/`` to the checkout, but mim looks
for the package beside its metadata in site-packages, which a PEP 660 editable install does not
hold: from a checkout, run ``python tools/train.py``.)
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

#: what ``mim`` reads from ``rdid_mm/.mim/`` (mmagic ships the same three, plus its demo/)
MIM_FILES = ('configs', 'tools', 'model-index.yml')
#: left out of the copies: build leftovers and tools/gpu_check/carry/ (wheels for the GPU machine)
MIM_IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', 'carry')
#: the files of rdid_mm/.mim/ a wheel ships (MANIFEST.in lists the same for an sdist)
MIM_PACKAGE_DATA = ['.mim/model-index.yml'] + [
    f'.mim/{folder}/**/*.{ext}' for folder in ('configs', 'tools')
    for ext in ('py', 'sh', 'md', 'txt', 'yml')]


def read_version():
    """Read ``__version__`` without importing the package."""
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'rdid_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(name):
    """Pins from ``requirements/<name>.txt``, comments dropped."""
    path = osp.join(osp.dirname(__file__), 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def add_mim_extension(mode=None, repo_path=None):
    """Put :data:`MIM_FILES` into ``rdid_mm/.mim/``, as mmagic's ``setup.py`` does.

    Symbolic links to the originals for an editable install (``pip install -e .``: setuptools'
    ``editable_wheel`` command, or the legacy ``develop``), copies otherwise (``pip install .``
    builds a wheel: ``bdist_wheel``; ``sdist``), so that an installed package carries its own
    configs and tools. Other commands (``egg_info``, ``dist_info``, ...) change nothing. A file
    absent from ``repo_path`` (a wheel built from an sdist, whose ``.mim/`` is already filled)
    leaves its ``.mim/`` entry as it is.
    """
    if mode is None:
        if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
            mode = 'symlink'
        elif 'bdist_wheel' in sys.argv or 'sdist' in sys.argv:
            mode = 'copy'
        else:
            return
    repo_path = repo_path or osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'rdid_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src_path = osp.join(repo_path, name)
        tar_path = osp.join(mim_path, name)
        if not osp.exists(src_path):
            continue
        if osp.islink(tar_path) or osp.isfile(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        file_mode = mode
        if file_mode == 'symlink':
            try:
                os.symlink(osp.relpath(src_path, mim_path), tar_path)
                continue
            except OSError:  # no symbolic links (Windows without the privilege): copy
                warnings.warn(f'Failed to create a symbolic link for {src_path}: copying it to '
                              f'{tar_path}')
                file_mode = 'copy'
        if file_mode != 'copy':
            raise ValueError(f'Invalid mode {mode}')
        if osp.isdir(src_path):
            shutil.copytree(src_path, tar_path, ignore=MIM_IGNORE)
        else:
            shutil.copyfile(src_path, tar_path)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='rdid_mm',
        version=read_version(),
        description=('RDID-GAN on MMEngine: restore face-pixelated person images for detector '
                     'training'),
        long_description=open('README.md').read() if osp.exists('README.md') else '',
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.10',
        packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
        install_requires=['mmengine', 'torch', 'torchvision', 'pycocotools', 'numpy'],
        extras_require={
            'all': read_requirements('runtime') + read_requirements('deid'),
            'tests': read_requirements('tests'),
        },
        # rdid_mm/.mim/ (add_mim_extension): what mim reads from an installed package; the
        # learned mosaic detector's weights (tools/analysis_tools/train_mosaic_net.py)
        package_data={'rdid_mm': MIM_PACKAGE_DATA + ['restore/mosaic_net.pth']},
        zip_safe=False,
    )
