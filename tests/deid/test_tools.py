"""The command-line tools of the de-identification part (their ``main`` called in-process; the
SIGKILL test in test_resume.py runs the build tool as a real subprocess)."""
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_figure_tool(deid_sample, tmp_path, capsys):
    tool = load_tool('deid_figure')
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
