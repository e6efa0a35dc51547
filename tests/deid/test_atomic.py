"""Atomic outputs: staged, renamed into place, nothing partial left behind."""
import os

import pytest

from rdid_mm.deid.atomic import AtomicWriter, clear_staging


def test_write_link_and_stream(tmp_path):
    writer = AtomicWriter(str(tmp_path / 'tmp'))
    writer.write_bytes(str(tmp_path / 'out' / 'a.bin'), b'abc')
    assert (tmp_path / 'out' / 'a.bin').read_bytes() == b'abc'
    writer.write_json(str(tmp_path / 'out' / 'b.json'), {'x': 1})
    assert (tmp_path / 'out' / 'b.json').read_text() == '{"x": 1}'

    source = tmp_path / 'source.jpg'
    source.write_bytes(b'\xff\xd8 original')
    os.chmod(source, 0o444)
    how = writer.link_or_copy(str(source), str(tmp_path / 'gt' / 'sub' / 'source.jpg'))
    assert how in ('link', 'copy')
    assert (tmp_path / 'gt' / 'sub' / 'source.jpg').read_bytes() == b'\xff\xd8 original'
    assert writer.link_or_copy(str(source), str(tmp_path / 'gt' / 'sub' / 'source.jpg')) == how

    with writer.open_stream(str(tmp_path / 'out' / 'c.txt')) as f:
        f.write('done')
    assert (tmp_path / 'out' / 'c.txt').read_text() == 'done'
    with pytest.raises(RuntimeError):
        with writer.open_stream(str(tmp_path / 'out' / 'd.txt')) as f:
            f.write('half')
            raise RuntimeError('interrupted')
    assert not (tmp_path / 'out' / 'd.txt').exists()
    assert os.listdir(tmp_path / 'tmp') == []


def test_clear_staging(tmp_path):
    staging = tmp_path / 'tmp'
    staging.mkdir()
    (staging / 'left.png.123').write_bytes(b'partial')
    clear_staging(str(staging))
    assert staging.is_dir() and os.listdir(staging) == []
