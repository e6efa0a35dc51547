"""Every weights file RDIDRunner writes records what it was trained from, and publishing keeps it.

The tiny RDID-GAN trained two iterations on the sample (data root and iterations set as
``--cfg-options`` would): the record read back with safetensors equals what is computed here
independently (git, hashlib over the runner's resolved config text and the annotation file).
"""
import hashlib
import json
import os.path as osp
import subprocess

import mmengine
import torch
from mmengine.config import Config
from safetensors import safe_open

from rdid_mm import apis
from rdid_mm.engine import runner as runner_module
from rdid_mm.engine.checkpoint import PROVENANCE_KEY, weights_provenance

from tests.conftest import REPO_ROOT
from tests.helpers import load_tool
from tests.models.test_training import TINY, tiny_cfg


def _git(*args):
    return subprocess.run(['git', '-C', REPO_ROOT, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_weights_files_record_commit_config_data_seed_and_packages(deid_sample, tmp_path,
                                                                   monkeypatch):
    calls = []
    original = runner_module.code_commit
    monkeypatch.setattr(runner_module, 'code_commit', lambda: calls.append(1) or original())
    work_dir = tmp_path / 'run'
    cfg = tiny_cfg('rdid_gan', deid_sample, work_dir, **{
        'train_cfg.max_iters': 2, 'default_hooks.checkpoint.interval': 1,
        'randomness.seed': 7})
    runner = apis.build_runner(cfg)
    runner.train()
    weights = [str(work_dir / f'iter_{i}.safetensors') for i in (1, 2)]
    assert all(osp.isfile(w) for w in weights)
    assert len(calls) == 1, 'the provenance is computed once per run, not per checkpoint'

    commit = _git('rev-parse', 'HEAD')
    if _git('status', '--porcelain', '--untracked-files=no'):
        commit += '+dirty'
    ann_file = osp.join(deid_sample, 'annotations', 'person_keypoints.json')
    config_sha = hashlib.sha256(runner.cfg.pretty_text.encode()).hexdigest()
    file_sha = hashlib.sha256(
        Config.fromfile(osp.join(REPO_ROOT, TINY['rdid_gan'])).pretty_text.encode()).hexdigest()
    assert config_sha != file_sha, 'the overrides are part of the hashed config'
    for path in weights:
        with safe_open(path, framework='pt') as f:
            record = json.loads(f.metadata()[PROVENANCE_KEY])
        assert record['commit'] == commit
        assert record['seed'] == 7 == runner.cfg.randomness.seed
        assert record['config_sha256'] == config_sha
        assert record['ann_sha256'] == hashlib.sha256(open(ann_file, 'rb').read()).hexdigest()
        assert record['packages']['torch'] == torch.__version__.split('+')[0]
        assert record['packages']['mmengine'] == mmengine.__version__
        assert weights_provenance(path) == record

    publish_weights = load_tool('publish_model').publish_weights
    published = publish_weights(weights[-1], str(tmp_path / 'pub' / 'rdid_gan_tiny'))
    assert weights_provenance(published) == weights_provenance(weights[-1])


def test_a_weights_file_without_a_record_has_no_provenance(tmp_path):
    from rdid_mm.utils.weights_file import save_state_dict_file
    path = str(tmp_path / 'other.safetensors')
    save_state_dict_file({'w': torch.ones(2)}, path, metadata={'note': 'another tool'})
    assert weights_provenance(path) == {}
