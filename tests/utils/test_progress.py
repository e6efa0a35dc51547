"""The progress bar: redrawn in place on a terminal, a few whole lines in a log."""
import io

import pytest

from rdid_mm.utils import progress
from rdid_mm.utils.progress import ImageProgressBar, format_seconds


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress.time, 'monotonic', clock)
    return clock


def test_a_log_gets_a_line_every_interval_not_one_per_item(clock):
    log = io.StringIO()
    bar = ImageProgressBar(1000, file=log, unit='items', every=30, label='restore ')
    for _ in range(1000):
        clock.now += 0.125  # 125 s in all, 8 items/s
        bar.update()
    bar.finish()
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue()
    # the first item, one line each 30 s after it, and the last: 6 lines, not 1000
    assert len(lines) == 6, lines
    assert lines[0] == 'restore 1/1000 (0%), 8.0 items/s, elapsed: 0s, ETA: 2m05s'
    assert lines[1] == 'restore 241/1000 (24%), 8.0 items/s, elapsed: 30s, ETA: 1m35s'
    assert lines[-1] == 'restore 1000/1000 (100%), 8.0 items/s, elapsed: 2m05s, ETA: 0s'


def test_a_terminal_bar_redraws_one_line(clock):
    screen = io.StringIO()
    bar = ImageProgressBar(4, file=screen, unit='images', tty=True)
    for _ in range(4):
        clock.now += 1
        bar.update()
    bar.finish()
    text = screen.getvalue()
    assert text.count('\n') == 1 and text.endswith('\n')
    assert text.count('\r') == 5  # start and each item
    assert text.rstrip('\n').split('\r')[-1].startswith('[>>>')
    assert '4/4, 1.0 images/s, elapsed: 4s, ETA: 0s' in text


def test_counts_from_a_log_give_the_rate_from_the_first_count_and_keep_their_eta(clock):
    """A training's first log line (iteration 10) comes after its start-up: the rate is measured
    from that line on, elapsed from the step's start, and the training's own ETA is shown."""
    log = io.StringIO()
    step_started = clock.now
    clock.now += 15  # start-up
    bar = ImageProgressBar(1500, file=log, unit='iters', every=60, started=step_started)
    bar.update_to(10, eta=290)
    clock.now += 60
    bar.update_to(130, eta=230)
    assert log.getvalue().splitlines() == [
        '10/1500 (1%), ? iters/s, elapsed: 15s, ETA: 4m50s',
        '130/1500 (9%), 2.0 iters/s, elapsed: 1m15s, ETA: 3m50s']


def test_an_unknown_total(clock):
    """No total: counts and rate, no ETA; finish() shows the last count."""
    open_ended = io.StringIO()
    bar = ImageProgressBar(0, file=open_ended, every=60)
    bar.update(3)
    clock.now += 1
    bar.update(2)
    bar.finish()  # the last count was not shown yet
    assert open_ended.getvalue().splitlines() == ['3, ? images/s, elapsed: 0s',
                                                  '5, 5.0 images/s, elapsed: 1s']


def test_format_seconds():
    assert [format_seconds(s) for s in (0.4, 59, 61, 3599, 7380)] == [
        '0s', '59s', '1m01s', '59m59s', '2h03m']
