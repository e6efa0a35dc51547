"""Progress of long loops, for a person at a terminal and for a log file alike.

MMEngine's ``ProgressBar`` redraws itself with ``\\r`` after every item: right on a terminal, but
in a log file or a pipe the redraws pile up into one unreadable line (or, with ``\\n``, a flood).
:class:`ImageProgressBar` keeps MMEngine's bar on a terminal and writes one full line every
``every`` seconds elsewhere, plus the first and the last, so a 10-hour run logs a few hundred
lines, not a million.
"""
import sys
import time
from typing import Optional

from mmengine.utils import ProgressBar


def is_terminal(file) -> bool:
    """True when ``file`` is an interactive terminal (a bar may redraw itself there)."""
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h03m``: short enough for a progress line."""
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m{seconds % 60:02d}s'
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'


class ImageProgressBar(ProgressBar):
    """``[>>>   ] 120/5000, 9.8 images/s, elapsed: 12s, ETA: 8m18s``.

    Args:
        task_num: how many items in all (0: unknown; the line then shows the count and rate).
        unit: what an item is, for the rate (``images``, ``items``, ``frames``, ``iters``).
        every: seconds between two lines when ``file`` is not a terminal.
        label: text before the bar (a step's name).
        tty: redraw in place (default: whether ``file`` is a terminal).
        started: when the work began, a ``time.monotonic()`` value (default: now).
    """

    def __init__(self, task_num: int = 0, bar_width: int = 50, start: bool = True,
                 file=sys.stdout, unit: str = 'images', every: float = 30.0, label: str = '',
                 tty: Optional[bool] = None, started: Optional[float] = None):
        self.unit, self.every, self.label = unit, every, label
        self.tty = is_terminal(file) if tty is None else tty
        self.started = time.monotonic() if started is None else started
        self.eta: Optional[float] = None
        # (elapsed, count) the rate is measured from: the start, or the first count reported by
        # update_to (a training's first log line comes after its start-up, at iteration 10)
        self._origin: Optional[tuple] = None
        self._last_line: Optional[float] = None  # when the last non-terminal line was written
        self._shown = -1  # the count that line showed
        super().__init__(task_num, bar_width, start=start, file=file)

    def start(self) -> None:
        if self.tty:
            self.file.write(f'\r{self.label}{self.status(time.monotonic() - self.started)}')
            self.file.flush()

    def update(self, num_tasks: int = 1) -> None:
        if self._origin is None:
            self._origin = (0.0, 0)
        self.update_to(self.completed + num_tasks)

    def update_to(self, completed: int, eta: Optional[float] = None) -> None:
        """Show ``completed`` items done; ``eta`` (seconds) replaces the bar's own estimate (a
        training log's, which leaves out the start-up time)."""
        self.completed, self.eta = completed, eta
        elapsed = time.monotonic() - self.started
        if self._origin is None:
            self._origin = (elapsed, completed)
        if self.tty:
            self.file.write(f'\r{self.label}{self.status(elapsed)}\033[K')
        elif (self._last_line is None or elapsed - self._last_line >= self.every
              or 0 < self.task_num <= completed):
            self._write_line(elapsed)
        else:
            return
        self.file.flush()

    def status(self, elapsed: float) -> str:
        """Counts, rate, elapsed time and ETA; after a bar on a terminal, a percentage in a log."""
        since, first = self._origin or (0.0, 0)
        rate = (self.completed - first) / (elapsed - since) if elapsed > since else None
        numbers = (f'{"?" if rate is None else f"{rate:.1f}"} {self.unit}/s, '
                   f'elapsed: {format_seconds(elapsed)}')
        if self.task_num <= 0:
            return f'{self.completed}, {numbers}'
        eta = self.eta
        if eta is None and rate:
            eta = (self.task_num - self.completed) / rate
        numbers += f', ETA: {"?" if eta is None else format_seconds(max(eta, 0.0))}'
        count = f'{self.completed}/{self.task_num}'
        if not self.tty:
            return f'{count} ({self.completed / self.task_num:.0%}), {numbers}'
        text = f'{count}, {numbers}'
        width = max(2, min(self.bar_width, self.terminal_width - len(self.label) - len(text) - 4))
        marks = min(width, int(width * self.completed / self.task_num))
        return f'[{">" * marks}{" " * (width - marks)}] {text}'

    def _write_line(self, elapsed: float) -> None:
        self.file.write(f'{self.label}{self.status(elapsed)}\n')
        self._last_line, self._shown = elapsed, self.completed

    def finish(self) -> None:
        """End the bar's line (terminal) or write the last count if no line showed it yet."""
        if self.tty:
            self.file.write('\n')
        elif self._shown != self.completed:
            self._write_line(time.monotonic() - self.started)
        self.file.flush()
