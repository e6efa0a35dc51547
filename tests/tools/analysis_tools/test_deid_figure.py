"""tools/analysis_tools/deid_figure.py: original | each strength, cropped to the faces."""
import numpy as np
from PIL import Image

from tests.helpers import load_tool


def test_figure_tool(deid_sample, tmp_path, capsys):
    tool = load_tool('analysis_tools/deid_figure')
    out = tmp_path / 'figure.png'
    assert tool.main(['--deid-dir', deid_sample, '--file-name', '000000040083.jpg', '--out',
                      str(out), '--tile-height', '120']) == 0
    figure = np.asarray(Image.open(out))
    assert figure.shape[0] == 120 + 28 and figure.shape[2] == 3
    # original | s8 | s16: three tiles of the same width and two gaps
    assert (figure.shape[1] - 2 * 6) % 3 == 0
    assert tool.main(['--deid-dir', deid_sample, '--file-name', 'nope.jpg', '--out',
                      str(tmp_path / 'x.png')]) == 2
    assert 'nope.jpg' in capsys.readouterr().err
