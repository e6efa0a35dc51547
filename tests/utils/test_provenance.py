"""The generic provenance helpers: one definition each, and the values they claim."""
import ast
import glob
import hashlib
import os.path as osp
import subprocess

from mmengine.config import Config

from rdid_mm.utils.provenance import (
    code_commit,
    config_text_sha256,
    file_sha256,
    git_commit,
    sha256_of,
)

from tests.conftest import REPO_ROOT

GENERIC = ('git_commit', 'code_commit', 'file_sha256', 'sha256_of', 'config_text_sha256',
           'package_versions')


def test_each_generic_helper_is_defined_once_in_utils():
    definitions = {}
    for path in glob.glob(osp.join(REPO_ROOT, 'rdid_mm', '**', '*.py'), recursive=True):
        for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
            if isinstance(node, ast.FunctionDef) and node.name in GENERIC:
                definitions.setdefault(node.name, []).append(osp.relpath(path, REPO_ROOT))
    assert definitions == {name: ['rdid_mm/utils/provenance.py'] for name in GENERIC}


def test_values_against_git_and_hashlib(tmp_path):
    head = subprocess.run(['git', '-C', REPO_ROOT, 'rev-parse', 'HEAD'], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert code_commit() in (head, head + '+dirty')
    assert git_commit(str(tmp_path)) == 'unknown'  # not a checkout
    data = tmp_path / 'a.bin'
    data.write_bytes(b'x' * (3 << 20))
    assert file_sha256(str(data)) == sha256_of(str(data)) == hashlib.sha256(
        data.read_bytes()).hexdigest()
    assert sha256_of(str(tmp_path / 'none')) == '' and sha256_of(None) == ''
    config = tmp_path / 'c.py'
    config.write_text('a = 1\nb = dict(c=2)\n')
    cfg = Config.fromfile(str(config))
    before = config_text_sha256(cfg)
    assert before == hashlib.sha256(cfg.pretty_text.encode()).hexdigest()
    cfg.merge_from_dict({'b.c': 3})  # an override (--cfg-options) changes the hash
    assert config_text_sha256(cfg) != before
