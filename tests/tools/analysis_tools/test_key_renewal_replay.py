"""tools/analysis_tools/key_renewal_replay.py: track mode's renewal decision replayed without a
model on the stability benchmark's videos."""
import pytest

from tests.helpers import load_tool

replay = load_tool('analysis_tools/key_renewal_replay')


def test_an_unchanged_face_keeps_its_key_and_a_swapped_one_renews_it(sample_dir):
    still = replay.run('tuning:rocket', 1, 'camera', sample_dir, frames=48)
    assert (still['tracks'], still['keys'], still['refreshes'], still['cuts']) == (2, 2, 0, 0)
    assert 0 < still['drift'] < 25 and still['renewed_at'] == []
    swapped = replay.run('tuning:rocket', 1, 'camera', sample_dir, frames=48, swap_at=24)
    assert swapped['keys'] == 3 and swapped['renewed_at'] == [24]
    assert swapped['refreshes'] + swapped['cuts'] == 1


def test_the_table_and_a_swap_on_a_sample_photo_is_a_one_line_error(sample_dir, capsys, tmp_path):
    rows = replay.main(['--images', 'tuning:text', '--seeds', '4', '--motions', 'subject',
                        '--sample', sample_dir,
                        '--out', str(tmp_path / 'rows.json')])
    out = capsys.readouterr().out
    assert len(rows) == 1 and '| tuning:text | 4 | subject | exact | 2 |' in out
    assert '1 videos: 0 renewed a key' in out and (tmp_path / 'rows.json').exists()
    with pytest.raises(SystemExit, match='--swap-at needs a composite photo'):
        replay.main(['--images', '000000040083.jpg', '--motions', 'camera', '--frames', '4',
                     '--swap-at', '2', '--sample', sample_dir])
