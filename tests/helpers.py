"""Small helpers shared by tests."""
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_ranks(target, world_size: int, args=(), timeout: float = 120.0):
    """Run ``target(rank, world_size, *args)`` in ``world_size`` spawned processes; wait at most
    ``timeout`` seconds in all, then kill any still running (a hung collective).

    Returns ``(exit codes, seconds)``: a rank still running at the deadline has exit code None.
    Unlike ``torch.multiprocessing.spawn``, one rank failing does not kill the others, so a test
    sees whether every rank stops on its own.
    """
    import time

    import torch.multiprocessing as mp
    context = mp.get_context('spawn')
    processes = [context.Process(target=target, args=(rank, world_size, *args))
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
