"""What a result was computed from: the code's commit, file and config hashes, package versions.

The lowest layer, so that the engine can stamp every weights file with them and the Table 1 tool
(:mod:`rdid_mm.reports.table_provenance`) every table.
"""
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


def code_commit() -> str:
    """The commit of the rdid_mm checkout this process runs (see :func:`git_commit`)."""
    return git_commit(osp.dirname(osp.dirname(osp.abspath(__file__))))


def file_sha256(path: str) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Optional[str]) -> str:
    """:func:`file_sha256`, or '' when there is no such file (an optional input)."""
    if not path or not osp.isfile(path):
        return ''
    return file_sha256(path)


def config_text_sha256(cfg) -> str:
    """sha256 of an mmengine ``Config``'s resolved text (``_base_`` files and overrides in)."""
    return hashlib.sha256(cfg.pretty_text.encode()).hexdigest()


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = 'absent'
    return versions
