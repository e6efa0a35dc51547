"""Atomic outputs: every file is written to a temporary name and renamed into place.

Temporary files live in one folder (``OUT/.deid_state/tmp``) on the output's file system, so an
interrupted run leaves no partial file among the outputs and the next run clears them in one place.
"""
import json
import os
import os.path as osp
import shutil
import tempfile

# mkstemp creates files readable by their owner only; outputs get the usual umask permissions.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


class AtomicWriter:
    """Writes files under a root atomically, staging them in ``tmp_dir``."""

    def __init__(self, tmp_dir: str):
        self.tmp_dir = tmp_dir
        os.makedirs(tmp_dir, exist_ok=True)

    def staging_path(self, target: str, suffix: str = '') -> str:
        """A new empty file in the staging folder, named after ``target``."""
        fd, path = tempfile.mkstemp(dir=self.tmp_dir, prefix=osp.basename(target)[:64] + '.',
                                    suffix=suffix)
        os.close(fd)
        os.chmod(path, FILE_MODE)
        return path

    def move_into_place(self, staging: str, target: str) -> None:
        """Rename a finished staging file to ``target``."""
        os.makedirs(osp.dirname(target), exist_ok=True)
        os.replace(staging, target)

    def write_bytes(self, target: str, data: bytes) -> None:
        os.makedirs(osp.dirname(target), exist_ok=True)
        staging = self.staging_path(target)
        try:
            with open(staging, 'wb') as f:
                f.write(data)
            os.replace(staging, target)
        finally:
            if osp.exists(staging):
                os.remove(staging)

    def write_json(self, target: str, obj, indent=None) -> None:
        self.write_bytes(target, json.dumps(obj, indent=indent, ensure_ascii=False).encode())

    def open_stream(self, target: str) -> 'AtomicStream':
        """A text file that appears at ``target`` only when closed without error."""
        os.makedirs(osp.dirname(target), exist_ok=True)
        return AtomicStream(self.staging_path(target), target)

    def link_or_copy(self, source: str, target: str) -> str:
        """Put the bytes of ``source`` at ``target``: a hard link if possible, else a copy.

        Returns ``'link'`` or ``'copy'``. ``source`` is only read.
        """
        os.makedirs(osp.dirname(target), exist_ok=True)
        if osp.isfile(target) and osp.samefile(source, target):
            return 'link'
        staging = self.staging_path(target)
        os.remove(staging)
        try:
            try:
                os.link(source, staging)
                how = 'link'
            except OSError:
                shutil.copyfile(source, staging)
                how = 'copy'
            os.replace(staging, target)
        finally:
            if osp.lexists(staging):
                os.remove(staging)
        return how


class AtomicStream:
    """Context manager returned by :meth:`AtomicWriter.open_stream`."""

    def __init__(self, staging: str, target: str):
        self.staging = staging
        self.target = target
        self.file = open(staging, 'w', encoding='utf-8')

    def __enter__(self):
        return self.file

    def __exit__(self, exc_type, exc, tb):
        self.file.close()
        if exc_type is None:
            os.replace(self.staging, self.target)
        elif osp.exists(self.staging):
            os.remove(self.staging)
        return False


def clear_staging(tmp_dir: str) -> None:
    """Remove what an interrupted run left in the staging folder."""
    if osp.isdir(tmp_dir):
        shutil.rmtree(tmp_dir)
    os.makedirs(tmp_dir, exist_ok=True)


def write_file_atomic(target: str, data: bytes) -> None:
    """Write one file atomically, staging it beside ``target`` (for single files outside OUT)."""
    folder = osp.dirname(osp.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix='.' + osp.basename(target) + '.')
    os.chmod(staging, FILE_MODE)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(staging, target)
    finally:
        if osp.exists(staging):
            os.remove(staging)
