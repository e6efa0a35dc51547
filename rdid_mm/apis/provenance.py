"""What a table was computed from: the code's commit, the data, the models, the packages."""
import hashlib
import os.path as osp
import subprocess
from importlib import metadata
from typing import Optional

PACKAGES = ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmagic', 'pycocotools')


def git_commit(path: str) -> str:
    """The commit of the checkout holding ``path`` (``+dirty`` with local changes), or 'unknown'."""
    folder = path if osp.isdir(path) else osp.dirname(osp.abspath(path))
    try:
        commit = subprocess.run(['git', '-C', folder, 'rev-parse', 'HEAD'], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(
            ['git', '-C', folder, 'status', '--porcelain', '--untracked-files=no'],
            capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return commit + ('+dirty' if dirty else '')


def sha256_of(path: Optional[str]) -> str:
    if not path or not osp.isfile(path):
        return ''
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def config_sha256(config: str) -> str:
    """sha256 of the resolved config text (``_base_`` files included)."""
    from mmengine.config import Config
    return hashlib.sha256(Config.fromfile(config).pretty_text.encode()).hexdigest()


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = 'absent'
    return versions


def table_provenance(ann_file: str, seed: int) -> dict:
    import rdid_mm
    return dict(commit=git_commit(osp.dirname(rdid_mm.__file__)), rdid_mm=rdid_mm.__version__,
                ann_file=ann_file, ann_sha256=sha256_of(ann_file), bootstrap_seed=seed,
                packages=package_versions())


def provenance_note(info: dict) -> str:
    packages = ', '.join(f'{k} {v}' for k, v in info['packages'].items())
    return (f'Provenance: rdid_mm {info["rdid_mm"]} at commit {info["commit"]}; annotations '
            f'sha256 {info["ann_sha256"][:16]}; bootstrap seed {info["bootstrap_seed"]}; '
            f'{packages}; each model row\'s config and checkpoint sha256 are in the CSV.')
