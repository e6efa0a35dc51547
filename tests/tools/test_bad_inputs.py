"""Bad input across the tools, run as the README shows them: each case one bad input, and each
ends in a one-line ``<tool>.py: error:`` naming the file and the problem, with no traceback.

The README's "Bad input: what each tool does" table has one row per test id here.
"""
import json
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.engine.test_checkpoint import write_malicious_checkpoint
from tests.tools.test_train_test_tools import TINY_CONFIG


@pytest.fixture(scope='module')
def tiny_weights(tmp_path_factory):
    """A real weights file of the tiny RDID-GAN (built from its config, untrained)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from rdid_mm.engine.checkpoint import save_state_dict_file, unwrapped_state_dict
    from rdid_mm.registry import MODELS
    path = str(tmp_path_factory.mktemp('weights') / 'tiny.safetensors')
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    save_state_dict_file(unwrapped_state_dict(model), path)
    return path


def _truncated(tmp, weights, sample):
    path = osp.join(tmp, 'truncated.safetensors')
    with open(weights, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return path


def _corrupted(tmp, weights, sample):
    path = osp.join(tmp, 'corrupted.safetensors')
    with open(weights, 'rb') as f:
        data = bytearray(f.read())
    data[8:72] = b'\xff' * 64  # the json header
    with open(path, 'wb') as f:
        f.write(bytes(data))
    return path


def _wrong_architecture(tmp, weights, sample):
    import torch
    from rdid_mm.engine.checkpoint import save_state_dict_file
    path = osp.join(tmp, 'resnet.safetensors')
    save_state_dict_file({'backbone.conv1.weight': torch.zeros(64, 3, 7, 7)}, path)
    return path


def _code_running_pickle(tmp, weights, sample):
    return write_malicious_checkpoint(osp.join(tmp, 'evil.pth'), osp.join(tmp, 'code_ran'))


def _test_tool(make_weights, expected):
    def case(tmp, weights, sample):
        path = make_weights(tmp, weights, sample)
        args = ['tools/test.py', TINY_CONFIG, path, '--work-dir', osp.join(tmp, 'w'),
                '--cfg-options', f'test_dataloader.dataset.data_root={sample}']
        return args, [path, expected]
    return case


def _unknown_type_config(tmp, weights, sample):
    path = osp.join(tmp, 'unknown_type.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{TINY_CONFIG!r}]\nmodel = dict(type='NoSuchRestorer', _delete_=True)\n")
    return (['tools/train.py', path, '--work-dir', osp.join(tmp, 'w')],
            ['NoSuchRestorer is not in the'])


def _wrong_schema_json(tmp, weights, sample):
    path = osp.join(tmp, 'not_coco.json')
    with open(path, 'w') as f:
        json.dump({'pictures': [], 'people': []}, f)
    return (['tools/build_deid_dataset.py', '--ann-file', path, '--img-dir',
             osp.join(sample, 'gt'), '--out', osp.join(tmp, 'out'), '--face-source',
             'coco_keypoints'], [path, 'not a COCO annotation file'])


def _missing(tool, *rest):
    def case(tmp, weights, sample):
        missing = osp.join(tmp, 'no_such_folder')
        args = [f'tools/{tool}.py', missing] + [a.format(tmp=tmp) for a in rest]
        return args, [missing, 'not found']
    return case


CASES = {
    'test-truncated-weights': _test_tool(_truncated, 'not a readable safetensors file'),
    'test-corrupted-weights': _test_tool(_corrupted, 'not a readable safetensors file'),
    'test-wrong-architecture': _test_tool(_wrong_architecture, 'does not fit the model'),
    'test-code-running-pickle': _test_tool(_code_running_pickle, 'refused to unpickle'),
    'train-unknown-type': _unknown_type_config,
    'train-missing-config': lambda tmp, w, s: (
        ['tools/train.py', osp.join(tmp, 'nope.py')], [osp.join(tmp, 'nope.py'), 'not found']),
    'eval_table-missing-folder': _missing('eval_table', '--out-dir', '{tmp}/t'),
    'eval_table-bootstrap-0': lambda tmp, w, s: (
        ['tools/eval_table.py', s, '--out-dir', osp.join(tmp, 't'), '--bootstrap', '0',
         '--strengths', '8'], ['--bootstrap 0']),
    'restore-device-cuda-without-gpu': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--deid-dir', s, '--strength', '8', '--out',
         osp.join(tmp, 'r'), '--device', 'cuda'], ['--device cuda', 'no CUDA GPU']),
    'restore-output-inside-input': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--input', osp.join(s, 'mosaic', 's8'), '--out',
         osp.join(s, 'mosaic', 's8', 'restored')], [osp.join(s, 'mosaic', 's8'), 'inside it']),
    'build_deid_dataset-wrong-schema-json': _wrong_schema_json,
    'privacy_audit-missing-folder': _missing('privacy_audit', '--rows', 'mosaic:s8', '--out',
                                             '{tmp}/p'),
    'strength_sweep-missing-folder': _missing('strength_sweep', '--strengths', '8',
                                              '--out-dir', '{tmp}/s'),
    'qualitative_grid-missing-folder': _missing('qualitative_grid', '--strength', '8', '--out',
                                                '{tmp}/g.png'),
}


@pytest.mark.parametrize('case', list(CASES), ids=list(CASES))
def test_bad_input_is_one_line_error(case, tmp_path, tiny_weights, deid_sample):
    args, named = CASES[case](str(tmp_path), tiny_weights, deid_sample)
    tool = osp.basename(args[0])
    result = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode != 0, f'{args}: exit 0\n{result.stdout[-2000:]}'
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error:'), result.stderr[-3000:]
    print(f'{case}: {last}')
    for text in named:
        assert text in last, f'{text!r} not in {last!r}'
    assert not osp.exists(osp.join(tmp_path, 'code_ran'))


def test_bootstrap_refuses_zero_resamples():
    """The library side of ``--bootstrap 0``: a ValueError saying why, not numpy's empty stack."""
    from rdid_mm.evaluation.bootstrap import resample_weights
    with pytest.raises(ValueError, match='at least 1 resample, got 0'):
        resample_weights(4, 0, seed=0)
    assert resample_weights(4, 3, seed=0).sum(axis=1).tolist() == [4, 4, 4]


def test_readme_table_rows_match_the_cases_one_to_one():
    import re
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme.split('## Bad input: what each tool does', 1)[1].split('\n## ', 1)[0]
    assert re.findall(r'^\| `([^`]+)` \|', section, re.M) == list(CASES)
