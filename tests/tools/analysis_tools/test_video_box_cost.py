"""tools/analysis_tools/video_box_cost.py: the localiser's cost on the stability benchmark's video
frames and the tracks of cheaper settings (the tracks themselves: tests/restore/
test_strided_localiser.py)."""
import json

import pytest

from tests.helpers import load_tool

tool = load_tool('analysis_tools/video_box_cost')


def test_the_table_rows_and_json(sample_dir, capsys, tmp_path):
    videos = tool.main(['--images', 'tuning:rocket', '--motions', 'camera', '--frames', '3',
                        '--every', '1', '2', '--repeat', '2', '--sample', sample_dir,
                        '--out', str(tmp_path / 'rows.json')])
    out = capsys.readouterr().out
    rows = {r['setting']: r for r in videos[0]['rows']}
    assert list(rows) == ['every 1', 'every 2', 'lattice']
    assert rows['every 1']['covered'] == rows['every 1']['covers'] == 1.0
    assert rows['every 1']['same_frames'] == 3 and rows['every 1']['tracks'] >= 2
    assert all(r['seconds_per_frame'] > 0 for r in rows.values())
    assert '| tuning:rocket | 1 | camera | 512x320 | every 2 |' in out
    assert 'lattice: ' in out and 'mean over 1 videos' in out
    assert json.loads((tmp_path / 'rows.json').read_text())[0]['frames'] == 3


def test_a_wrong_setting_is_a_value_error():
    with pytest.raises(ValueError, match="'lattice' or 'every N'"):
        tool.box_finder('sometimes')


def test_a_scaled_video_pixelated_at_its_new_size_has_its_mosaics(sample_dir):
    """``--pixelate-scaled``: the original scaled, then pixelated at strength 8, so the mosaics
    stay mosaics (a pixelated video scaled up by 1.5 blurs its blocks' edges)."""
    video = tool.run('tuning:rocket', 1, 'camera', sample_dir, ['lattice'], frames=2, scale=1.5,
                     pixelate_scaled=True)
    assert video['size'] == [768, 480]
    assert video['rows'][0]['boxes'] == 4  # two faces, two frames
