"""Decoding ahead and encoding behind the model, in two threads each.

The restore loop decodes the next images (and finds their boxes) while the generator restores
the current batch, and encodes and writes finished outputs while it restores the next one. The
threads spend most of their time in OpenCV, zlib and file I/O, which release the GIL. While the
model runs, one thread each keeps up; the second ones count at the ends of a run, where the model
waits for the first batch's decoding and the last batch's encoding waits for nothing else (the
restore loop on 32 images of three faces, 2 cores: 4.50-4.84 s with one thread each, 4.15-4.33 s
with two; ``restore_throughput.py``'s images, best of 3 alternating runs each). Results
come back in submission order, and a finished write is acknowledged (recorded, counted) in the
loop's own thread, so the run's record and hooks see outputs in order, only once on disk.
"""
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Deque, Optional, Tuple


def _done_now(fn: Callable, *args) -> Future:
    future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as err:  # noqa: BLE001 - handed to the caller by result()
        future.set_exception(err)
    return future


class BackgroundIO:
    """Reader and writer threads (``enabled``), or the same calls made inline.

    Args:
        enabled: use the threads; False runs every call at once in the caller's thread.
        max_weight: the total ``weight`` (the loop: pixels) of the writes in flight before
            :meth:`write` waits for the oldest; bounds the memory of arrays waiting to be encoded.
        threads: reader threads, and as many writer threads.
    """

    def __init__(self, enabled: bool = True, max_weight: int = 64_000_000, threads: int = 2):
        self.enabled, self.max_weight = enabled, max_weight
        self.reader = ThreadPoolExecutor(threads, 'restore-read') if enabled else None
        self.writer = ThreadPoolExecutor(threads, 'restore-write') if enabled else None
        self.writes: Deque[Tuple[Future, Optional[Callable], int]] = deque()
        self.weight = 0

    def read(self, fn: Callable, *args) -> Future:
        """``fn(*args)`` in a reader thread; its future."""
        return self.reader.submit(fn, *args) if self.enabled else _done_now(fn, *args)

    def write(self, fn: Callable, *args, then: Optional[Callable] = None,
              weight: int = 0) -> None:
        """``fn(*args)`` in a writer thread; ``then()`` in this thread once it is done (and
        every earlier write's ``then``), from :meth:`acknowledge`, :meth:`drain` or
        :meth:`close`."""
        future = self.writer.submit(fn, *args) if self.enabled else _done_now(fn, *args)
        self.writes.append((future, then, weight))
        self.weight += weight
        while len(self.writes) > 1 and self.weight > self.max_weight:
            self.acknowledge(wait=True)
        self.acknowledge()

    def acknowledge(self, wait: bool = False) -> None:
        """Call ``then`` of the finished writes, oldest first (``wait``: for the oldest one at
        least); a failed write raises its error here."""
        while self.writes and (wait or self.writes[0][0].done()):
            future, then, weight = self.writes.popleft()
            self.weight -= weight
            future.result()
            if then is not None:
                then()
            wait = False

    def drain(self) -> None:
        """Wait for every write and acknowledge it."""
        while self.writes:
            self.acknowledge(wait=True)

    def close(self) -> None:
        """:meth:`drain` (also when the run is failing: what reached the disk is recorded, so a
        rerun keeps it), then stop the threads."""
        try:
            self.drain()
        finally:
            if self.enabled:
                self.reader.shutdown(wait=True, cancel_futures=True)
                self.writer.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
