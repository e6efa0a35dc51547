"""RDIDRunner housekeeping that the end-to-end tool tests do not reach."""
import torch

from rdid_mm.engine import RDIDRunner
from rdid_mm.engine.checkpoint import WRITTEN_BY
from rdid_mm.utils.weights_file import save_state_dict_file


def _runner_weights(path, checkpoint_name):
    save_state_dict_file({'w': torch.zeros(1)}, str(path),
                         metadata=dict(written_by=WRITTEN_BY, checkpoint=checkpoint_name))


def test_cleanup_deletes_only_files_the_runner_wrote_for_deleted_checkpoints(tmp_path):
    _runner_weights(tmp_path / 'iter_2.safetensors', 'iter_2.pth')  # its .pth was deleted
    _runner_weights(tmp_path / 'iter_4.safetensors', 'iter_4.pth')
    (tmp_path / 'iter_4.pth').write_bytes(b'c')
    (tmp_path / 'iter_2.rank0.state').write_bytes(b's')
    (tmp_path / 'iter_2.rank1.state').write_bytes(b's')
    (tmp_path / 'iter_4.rank0.state').write_bytes(b's')
    # a user's files: a foreign weights file, a copy of runner weights under another name, notes
    save_state_dict_file({'w': torch.ones(1)}, str(tmp_path / 'pretrained.safetensors'))
    _runner_weights(tmp_path / 'my_copy.safetensors', 'iter_2.pth')
    (tmp_path / 'not_weights.safetensors').write_bytes(b'garbage')
    (tmp_path / 'notes.txt').write_text('kept')
    RDIDRunner._remove_orphan_files(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'iter_4.pth', 'iter_4.rank0.state', 'iter_4.safetensors', 'my_copy.safetensors',
        'not_weights.safetensors', 'notes.txt', 'pretrained.safetensors']
