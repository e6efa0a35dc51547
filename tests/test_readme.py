"""Every config, tool and flag that README.md, docs/ and the configs' READMEs show exists; no
checkpoint name that no run writes; every local link resolves; the front page stays short and keeps
the test command; each algorithm's README lists its folder's configs and has mmagic's sections."""
import glob
import os.path as osp
import re

from tests.conftest import REPO_ROOT

# files the docs ask the reader to create
EXAMPLES = {'configs/my_experiments/rdid-gan_lr1e-4_deid-coco.py',
            'configs/my_experiments/rdid-gan_tiny_my-data.py'}
README = osp.join(REPO_ROOT, 'README.md')
ALGORITHMS = ('rdid_gan', 'cyclegan', 'pix2pix')
CONFIG_READMES = [osp.join(REPO_ROOT, 'configs', algo, 'README.md') for algo in ALGORITHMS]
DOCS = ([README] + sorted(glob.glob(osp.join(REPO_ROOT, 'docs', '*.md'))) + CONFIG_READMES)
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


def test_readme_is_short():
    """The front page: at most 200 lines and 15,000 characters; the rest lives in docs/."""
    text = open(README, encoding='utf-8').read()
    assert len(text.splitlines()) <= 200, len(text.splitlines())
    assert len(text) <= 15000, len(text)


def test_readme_shows_the_test_command():
    """.ci/run and a new user run the test command the README shows."""
    commands = list(_commands(open(README, encoding='utf-8').read()))
    assert 'bash tools/run_tests.sh' in commands
    assert 'bash tools/demo.sh' in commands
    assert 'bash tools/run_tests.sh' in open(osp.join(REPO_ROOT, '.ci', 'run')).read()


def test_local_links_resolve():
    broken = []
    for doc in DOCS:
        text = open(doc, encoding='utf-8').read()
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            path = target.split('#')[0]
            if not path or re.match(r'[a-z]+:', path):
                continue
            if not osp.exists(osp.join(osp.dirname(doc), path)):
                broken.append(f'{osp.relpath(doc, REPO_ROOT)}: {target}')
    assert not broken, broken


def test_each_algorithm_readme_lists_its_configs():
    """Every config file of the folder has a line in its README, and every config the README names
    lies in the folder."""
    for algo, readme in zip(ALGORITHMS, CONFIG_READMES):
        folder = osp.dirname(readme)
        text = open(readme, encoding='utf-8').read()
        configs = sorted(osp.basename(p) for p in glob.glob(osp.join(folder, '*.py')))
        assert configs, folder
        section = text.split('## Configs', 1)[1].split('\n## ', 1)[0]
        listed = re.findall(r'^\| `([\w.-]+\.py)`', section, re.M)
        assert sorted(listed) == configs, (algo, listed, configs)
        named = set(re.findall(r'(?<![\w/.-])([\w-]+\.py)\b', text))
        named -= {'train.py', 'test.py', 'eval_table.py', 'data_settings.py'}
        assert named <= set(configs) | {'rdid_gan_coco.py', 'rdid-gan_tiny_my-data.py'}, (
            algo, named - set(configs))


def test_each_algorithm_readme_has_mmagics_sections():
    """mmagic's per-algorithm shape: paper, abstract, the paper's Table 1, a results table whose
    rows say how to produce them, the configs, a citation; and the detector caveat."""
    for readme in CONFIG_READMES:
        text = open(readme, encoding='utf-8').read()
        for heading in ('## Abstract', "## The paper's Table 1", '## Results and models',
                        '## Configs', '## Citation'):
            assert f'\n{heading}' in text, (readme, heading)
        assert text.startswith('# ') and '<!-- [ALGORITHM] -->' in text, readme
        assert re.search(r'```bibtex\n@\w+\{', text), readme
        assert '55.441 | 65.496' in text and '52.168 | 53.377' in text, readme
        assert all(s in text for s in ('55.4 / 65.5', '54.6 / 65.0', 'difference to GT')), readme
        results = text.split('## Results and models', 1)[1].split('\n## ', 1)[0]
        assert 'tools/eval_table.py' in results and 'tools/dist_train.sh' in results, readme


def test_readme_commands_parse_with_their_tools_arguments(monkeypatch):
    """Each ``python tools/X.py ...`` command of README.md, as written, is accepted by that
    tool's own argument parser (positionals, flags and values; nothing is run)."""
    import shlex
    import sys

    from tests.helpers import load_tool
    parsed = 0
    for command in _commands(open(README, encoding='utf-8').read()):
        words = shlex.split(command)
        if len(words) < 2 or words[0] != 'python' or not words[1].startswith('tools/'):
            continue
        tool = load_tool(words[1][len('tools/'):-len('.py')])
        monkeypatch.setattr(sys, 'argv', words[1:])
        try:
            tool.parse_args()
        except SystemExit as error:
            raise AssertionError(f'README: `{command}` is refused by {words[1]}') from error
        parsed += 1
    assert parsed >= 6
