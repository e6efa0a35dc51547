"""tests/helpers.py: a tool forked from the preloaded server behaves as one started by a shell."""
import sys

import pytest

from tests.helpers import run_tool


@pytest.mark.slow
@pytest.mark.parametrize('args', [
    ['tools/test.py', 'configs/rdid_gan_coco.py', 'no_such.safetensors'],  # the tool's own error
    ['tools/test.py', '--no-such-flag'],  # argparse's usage error, exit code 2
])
def test_a_forked_tool_has_the_exit_code_and_stderr_of_a_new_interpreter(args):
    forked = run_tool([sys.executable, *args])
    fresh = run_tool([sys.executable, *args], fresh_interpreter=True)
    assert forked.returncode == fresh.returncode != 0
    assert forked.stderr.strip().splitlines()[-1] == fresh.stderr.strip().splitlines()[-1]
    assert 'Traceback' not in forked.stderr + fresh.stderr


def test_a_forked_tool_gets_its_own_environment_and_working_folder(tmp_path):
    script = tmp_path / 'show.py'
    script.write_text('import os\nprint(os.getcwd(), os.environ.get("RDID_HELPER_CHECK"))\n'
                      'raise SystemExit("show.py: error: done")\n')
    result = run_tool([sys.executable, str(script)], cwd=tmp_path,
                      env={'RDID_HELPER_CHECK': 'yes', 'PATH': '/usr/bin'})
    assert result.stdout.split() == [str(tmp_path), 'yes']
    assert result.returncode == 1 and result.stderr.strip() == 'show.py: error: done'
