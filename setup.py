"""Install rdid_mm: ``pip install -e .`` (the full stack: ``bash tools/install_env.sh``)."""
import os.path as osp

from setuptools import find_packages, setup


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


setup(
    name='rdid_mm',
    version=read_version(),
    description='RDID-GAN on MMEngine: restore face-pixelated person images for detector training',
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
    zip_safe=False,
)
