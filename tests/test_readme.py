"""Every config, tool and flag that README.md and docs/ show exists; no checkpoint name that no
run writes."""
import glob
import os.path as osp
import re

from tests.conftest import REPO_ROOT

# a file the README asks the reader to create
EXAMPLES = {'configs/my_experiments/rdid-gan_lr1e-4_deid-coco.py'}
DOCS = [osp.join(REPO_ROOT, 'README.md')] + sorted(glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))
SHARED_ARGS = [osp.join(REPO_ROOT, 'rdid_mm', 'reports', 'cli_options.py')]


def _code_blocks(text):
    return re.findall(r'```(?:bash|sh)?\n(.*?)```', text, flags=re.S)


def _commands(text):
    """Shell commands of the code blocks, continuation lines joined."""
    for block in _code_blocks(text):
        for command in block.replace('\\\n', ' ').splitlines():
            command = command.split('#')[0].strip()
            if command:
                yield command


def test_paths_in_the_docs_exist():
    missing = []
    for doc in DOCS:
        text = open(doc, encoding='utf-8').read()
        for path in set(re.findall(r'(?<![\w/.-])((?:configs|tools)/[\w./-]+\.(?:py|sh))', text)):
            if ('*' not in path and path not in EXAMPLES
                    and not osp.isfile(osp.join(REPO_ROOT, path))):
                missing.append(f'{osp.basename(doc)}: {path}')
    assert not missing, missing


def test_flags_in_the_docs_exist():
    unknown, checked = [], 0
    for doc in DOCS:
        for command in _commands(open(doc, encoding='utf-8').read()):
            tool = re.search(r'(?<![\w/])tools/([\w/]+)\.(py|sh)', command)
            if not tool:
                continue
            script = osp.join(REPO_ROOT, 'tools', f'{tool.group(1)}.{tool.group(2)}')
            if tool.group(2) == 'sh':
                script = osp.join(REPO_ROOT, 'tools', 'train.py' if 'train' in tool.group(1)
                                  else 'test.py')
            sources = ''.join(open(p).read() for p in [script] + SHARED_ARGS)
            for flag in re.findall(r'\s(--[a-z][\w-]*)', command):
                checked += 1
                if f"'{flag}'" not in sources and f'"{flag}"' not in sources:
                    unknown.append(f'{osp.basename(doc)}: {tool.group(0)} {flag}')
    assert not unknown, unknown
    assert checked > 20


def test_no_checkpoint_name_that_no_run_writes():
    for doc in DOCS:
        text = open(doc, encoding='utf-8').read()
        assert not re.search(r'work_dirs/[\w-]+/best\.safetensors', text), doc
