"""Small helpers shared by tests."""
import os
import socket
import subprocess
import sys
import tempfile


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_ranks(target, world_size: int, args=(), timeout: float = 120.0):
    """Run ``target(rank, world_size, *args)`` in ``world_size`` processes forked from the tools'
    forkserver (:func:`_tools_context`: rdid_mm imported once, not once a rank); wait at most
    ``timeout`` seconds in all, then kill any still running (a hung collective).

    Returns ``(exit codes, seconds)``: a rank still running at the deadline has exit code None.
    Unlike ``torch.multiprocessing.spawn``, one rank failing does not kill the others, so a test
    sees whether every rank stops on its own.
    """
    import time

    env = dict(os.environ)  # the forkserver's own is that of the first run that started it
    processes = [_tools_context().Process(target=_run_rank,
                                          args=(target, env, rank, world_size, *args))
                 for rank in range(world_size)]
    start = time.monotonic()
    for process in processes:
        process.start()
    for process in processes:
        process.join(max(0.0, timeout - (time.monotonic() - start)))
    seconds = time.monotonic() - start
    codes = [process.exitcode for process in processes]
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
    return codes, seconds


def _run_rank(target, env, rank, world_size, *args):
    """In the child: ``target`` with the test's environment, as a spawned rank had it."""
    os.environ.clear()
    os.environ.update(env)
    target(rank, world_size, *args)


def load_tool(name: str):
    """A tool script as a module (``'train'``, ``'analysis_tools/benchmark_eval'``), to call its
    functions in this process."""
    import importlib.util

    from tests.conftest import REPO_ROOT
    path = os.path.join(REPO_ROOT, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(os.path.basename(name), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_training_split(weights_path: str, record: dict) -> None:
    """Rewrite a safetensors weights file with a training-split ``record`` in its metadata, as
    RDIDRunner stamps the files it writes (for tests that need a record without training)."""
    import json

    from rdid_mm.datasets.training_split import METADATA_KEY
    from rdid_mm.utils.weights_file import (
        load_state_dict_file,
        save_state_dict_file,
        weights_file_metadata,
    )
    metadata = weights_file_metadata(weights_path)
    metadata[METADATA_KEY] = json.dumps(record, sort_keys=True)
    save_state_dict_file(load_state_dict_file(weights_path), weights_path, metadata)


# ------------------------------------------------------------------ running a tool
#: what a tool imports before its first line runs (8 s of a tool's start on the 2-core machine)
TOOL_PRELOAD = ['rdid_mm.apis']
_tool_context = None


def _tools_context():
    """A forkserver that has imported :data:`TOOL_PRELOAD` once and run no torch op (its import
    starts a few helper threads, of numpy, cv2 and mmagic's imports, none holding a lock a child
    needs: a forked child runs torch, numpy and cv2); each tool run or rank is a fresh child."""
    global _tool_context
    if _tool_context is None:
        import multiprocessing
        _tool_context = multiprocessing.get_context('forkserver')
        _tool_context.set_forkserver_preload(TOOL_PRELOAD)
    return _tool_context


def _run_script(argv, cwd, env, stdout_path, stderr_path):
    """In the child: run the script as ``python SCRIPT ARGS`` would, its output in the files."""
    import runpy
    out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = out if stderr_path == stdout_path else os.open(
        stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdout = open(1, 'w', buffering=1, closefd=False)
    sys.stderr = open(2, 'w', buffering=1, closefd=False)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
    # SystemExit('tool.py: error: ...') ends the child as the interpreter would: the message on
    # stderr and exit code 1 (multiprocessing's bootstrap); any other exception prints its traceback
    runpy.run_path(argv[0], run_name='__main__')


def _script_argv(command):
    argv = [str(a) for a in command]
    if argv and argv[0] == sys.executable:
        argv = argv[1:]
    return argv if argv and argv[0].endswith('.py') else None


def _start(argv, cwd, env, stdout_path, stderr_path):
    process = _tools_context().Process(target=_run_script,
                                       args=(argv, cwd, env, stdout_path, stderr_path))
    process.start()
    return process


def start_tool(command, log_path, cwd=None, env=None):
    """Start the Python script of ``command`` (see :func:`run_tool`) with stdout and stderr in
    ``log_path``; returns the running :class:`multiprocessing.Process` (``pid``, ``exitcode``,
    ``join``): a test can SIGKILL it as a user's out-of-memory killer would."""
    from tests.conftest import REPO_ROOT
    argv = _script_argv(command)
    assert argv, f'start_tool starts a Python script: {command}'
    return _start(argv, str(cwd or REPO_ROOT), dict(os.environ if env is None else env),
                  log_path, log_path)


def run_tool(command, cwd=None, env=None, timeout=600, fresh_interpreter=False):
    """Run ``command`` (``[sys.executable, 'tools/x.py', ...]``, ``['tools/x.py', ...]`` or any
    other command) and return a :class:`subprocess.CompletedProcess` with text output, as
    ``subprocess.run(..., capture_output=True, text=True)`` does.

    A Python script runs in its own process with its own argv, working folder, environment, exit
    code and output, but forked from a server that imported rdid_mm already (a tool starts in
    0.05 s instead of 8 s). Pass ``fresh_interpreter=True`` where the interpreter start is what is
    tested: each tool keeps one such test of its command line.
    """
    from tests.conftest import REPO_ROOT
    argv = _script_argv(command)
    cwd = str(cwd or REPO_ROOT)
    env = dict(os.environ if env is None else env)
    if fresh_interpreter or argv is None:  # argv None: not a Python script (bash dist_train.sh)
        return subprocess.run([sys.executable, *argv] if argv else command, cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix='run_tool_') as tmp:
        out, err = os.path.join(tmp, 'stdout'), os.path.join(tmp, 'stderr')
        process = _start(argv, cwd, env, out, err)
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(argv, timeout)
        with open(out, encoding='utf-8', errors='replace') as f:
            stdout = f.read()
        with open(err, encoding='utf-8', errors='replace') as f:
            stderr = f.read()
    return subprocess.CompletedProcess([sys.executable, *argv], process.exitcode, stdout, stderr)


def changed_outside(before, after, boxes) -> int:
    """How many pixels outside ``boxes`` differ (0 for a correct region-mode result)."""
    import numpy as np

    from rdid_mm.utils.boxes import box_to_slices
    mask = np.ones(before.shape[:2], bool)
    for box in boxes:
        mask[box_to_slices(box, *before.shape[:2])] = False
    return int((before != after).any(axis=-1)[mask].sum())


def random_weights_file(config: str, path: str) -> str:
    """A weights file of ``config``'s model as training starts (built, ``init_weights()``), at
    ``path``: what a test restores with when it checks plumbing, not quality."""
    from rdid_mm.apis import init_model
    from rdid_mm.utils.weights_file import save_state_dict_file
    model = init_model(config)
    model.init_weights()
    save_state_dict_file(model.state_dict(), path)
    return path
