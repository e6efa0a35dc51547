"""Atomic writes: staged, fsynced, renamed into place, nothing partial left behind, the umask
applied by the kernel and never read (no process-wide state touched)."""
import os
import stat
import threading

import pytest

from rdid_mm.utils.io import atomic_link_or_copy, atomic_open, atomic_write, atomic_write_json


def test_write_link_and_stream(tmp_path):
    staging = tmp_path / 'tmp'
    atomic_write(str(tmp_path / 'out' / 'a.bin'), b'abc', staging_dir=str(staging))
    assert (tmp_path / 'out' / 'a.bin').read_bytes() == b'abc'
    atomic_write_json(str(tmp_path / 'out' / 'b.json'), {'x': 1}, staging_dir=str(staging))
    assert (tmp_path / 'out' / 'b.json').read_text() == '{"x": 1}'

    source = tmp_path / 'source.jpg'
    source.write_bytes(b'\xff\xd8 original')
    os.chmod(source, 0o444)
    target = str(tmp_path / 'gt' / 'sub' / 'source.jpg')
    how = atomic_link_or_copy(str(source), target, staging_dir=str(staging))
    assert how in ('link', 'copy')
    assert (tmp_path / 'gt' / 'sub' / 'source.jpg').read_bytes() == b'\xff\xd8 original'
    assert atomic_link_or_copy(str(source), target, staging_dir=str(staging)) == how

    with atomic_open(str(tmp_path / 'out' / 'c.txt'), 'w', str(staging)) as f:
        f.write('done')
    assert (tmp_path / 'out' / 'c.txt').read_text() == 'done'
    with pytest.raises(RuntimeError):
        with atomic_open(str(tmp_path / 'out' / 'd.txt'), 'w', str(staging)) as f:
            f.write('half')
            raise RuntimeError('interrupted')
    assert not (tmp_path / 'out' / 'd.txt').exists()
    assert os.listdir(staging) == []


def test_beside_the_target_without_a_staging_folder(tmp_path):
    atomic_write(str(tmp_path / 'x.md'), 'text é')
    assert (tmp_path / 'x.md').read_text(encoding='utf-8') == 'text é'
    assert os.listdir(tmp_path) == ['x.md']


def test_permissions_follow_the_umask_without_reading_it(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(str(tmp_path / 'a'), b'1')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 'a').st_mode) == 0o640


def test_importing_does_not_touch_the_umask():
    """A thread that reads the umask while rdid_mm's writers are imported sees its own value."""
    import importlib
    import sys
    seen = []
    old = os.umask(0o022)
    try:
        def reader():
            for _ in range(2000):
                value = os.umask(0o022)
                os.umask(value)
                seen.append(value)
        thread = threading.Thread(target=reader)
        thread.start()
        for name in ('rdid_mm.utils.io', 'rdid_mm.deid.builder', 'rdid_mm.deid.image_job'):
            sys.modules.pop(name, None)
            importlib.import_module(name)
        thread.join()
    finally:
        os.umask(old)
    assert set(seen) == {0o022}
    source = open(importlib.import_module('rdid_mm.utils.io').__file__).read()
    assert 'os.umask' not in source


def test_remove_staging_files_takes_only_what_a_killed_write_left(tmp_path):
    from rdid_mm.utils.io import new_staging_file, remove_staging_files
    target = tmp_path / 'sub' / 'a.png'
    left = [new_staging_file(str(target)), new_staging_file(str(target), suffix='.mp4')]
    keep = [tmp_path / 'a.png', tmp_path / '.hidden', tmp_path / '.a.png.notahexname.tmp',
            tmp_path / 'sub' / 'b.0123456789ab.tmp']
    for path in keep:
        path.write_bytes(b'x')
    assert remove_staging_files(str(tmp_path)) == 2
    assert not any(os.path.exists(p) for p in left) and all(p.exists() for p in keep)
