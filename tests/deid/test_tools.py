"""The command-line tools of the de-identification part (their ``main`` called in-process; the
SIGKILL test in test_resume.py runs the build tool as a real subprocess)."""
import os

import numpy as np
import pytest
from PIL import Image

from tests.helpers import load_tool


def test_build_tool_refuses_output_inside_the_input(tmp_path, capsys):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(img_dir / 'a.png')
    status = load_tool('build_deid_dataset').main(['--img-dir', str(img_dir), '--out',
                                                   str(img_dir / 'out')])
    assert status == 2
    assert 'lies inside it' in capsys.readouterr().err
    assert os.listdir(img_dir) == ['a.png']


def test_build_tool_exit_status_with_require_all_faces(tmp_path, sample_ann_file,
                                                       sample_wholebody_ann_file,
                                                       sample_img_dir):
    tool = load_tool('build_deid_dataset')
    args = ['--ann-file', sample_ann_file, '--img-dir', sample_img_dir, '--face-source',
            'wholebody', '--wholebody-ann', sample_wholebody_ann_file, '--publish']
    assert tool.main(args + ['--out', str(tmp_path / 'a'), '--require-all-faces']) == 1
    assert tool.main(args + ['--out', str(tmp_path / 'b')]) == 0


def test_build_tool_face_source_options():
    tool = load_tool('build_deid_dataset')
    args = tool.parse_args(['--img-dir', 'x', '--out', 'y', '--face-source', 'centerface', 'dsfd',
                            'wholebody', '--score-thr', '0.4', '--dsfd-weights', 'w.pth'])
    assert tool.face_source_configs(args) == [
        dict(type='centerface', score_thr=0.4), dict(type='dsfd', score_thr=0.4, weights='w.pth'),
        'wholebody']
    with pytest.raises(SystemExit):
        tool.parse_args(['--out', 'y', '--face-source', 'haar'])
