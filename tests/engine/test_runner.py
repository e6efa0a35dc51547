"""RDIDRunner housekeeping that the end-to-end tool tests do not reach."""
from rdid_mm.engine import RDIDRunner


def test_weights_of_deleted_checkpoints_are_removed(tmp_path):
    for name in ('iter_2', 'iter_4'):
        (tmp_path / f'{name}.safetensors').write_bytes(b'w')
    (tmp_path / 'iter_4.pth').write_bytes(b'c')
    (tmp_path / 'notes.txt').write_text('kept')
    RDIDRunner._remove_orphan_weights(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'iter_4.pth', 'iter_4.safetensors', 'notes.txt']
