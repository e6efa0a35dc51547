"""BackgroundIO: writes acknowledged in order and only once done, errors raised in the loop's
thread, everything written recorded when a run fails, memory bounded by weight."""
import threading
import time

import pytest

from rdid_mm.restore.background import BackgroundIO


@pytest.mark.parametrize('enabled', [True, False])
def test_writes_are_acknowledged_in_order_after_they_ran(enabled):
    ran, acknowledged = [], []

    def slow_write(i):
        time.sleep(0.02 if i == 0 else 0)  # the first write finishes last
        ran.append(i)

    with BackgroundIO(enabled) as io:
        for i in range(5):
            io.write(slow_write, i, then=lambda i=i: acknowledged.append((i, i in ran)))
        future = io.read(threading.current_thread)
    assert acknowledged == [(i, True) for i in range(5)]
    assert (future.result() is threading.main_thread()) is (not enabled)


def test_a_failed_write_raises_and_earlier_ones_are_recorded():
    acknowledged = []

    def write(i):
        if i == 2:
            raise OSError('disk full')

    io = BackgroundIO()
    with pytest.raises(OSError, match='disk full'):
        with io:
            for i in range(4):
                io.write(write, i, then=lambda i=i: acknowledged.append(i))
    assert acknowledged == [0, 1]


def test_close_records_what_was_written_when_the_run_fails():
    acknowledged = []
    with pytest.raises(KeyboardInterrupt):
        with BackgroundIO() as io:
            io.write(time.sleep, 0.05, then=lambda: acknowledged.append('written'))
            raise KeyboardInterrupt
    assert acknowledged == ['written']


def test_weight_bounds_the_writes_in_flight():
    finished = []

    def write(i):
        time.sleep(0.05 + 0.25 * i)  # the second still runs when the first is done
        finished.append(i)

    io = BackgroundIO(max_weight=10)
    io.write(write, 0, weight=6)
    io.write(write, 1, weight=6)  # 12 > 10: returns only once the first is written
    assert finished == [0] and len(io.writes) == 1 and io.weight == 6
    io.close()
    assert finished == [0, 1] and io.weight == 0


def test_two_writes_run_at_once_and_are_acknowledged_in_order():
    """Two writer threads (the last batch's encoding at the end of a run): a slow first write
    does not hold up the second, and the record still follows the input order."""
    started, acknowledged = [], []
    both_running = threading.Barrier(2, timeout=5)

    def write(i):
        started.append(i)
        both_running.wait()  # raises BrokenBarrierError unless both writes run at once

    with BackgroundIO() as io:
        for i in range(2):
            io.write(write, i, then=lambda i=i: acknowledged.append(i))
    assert sorted(started) == [0, 1] and acknowledged == [0, 1]
