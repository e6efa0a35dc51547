"""A progress bar that reports images per second (MMEngine's bar, in images)."""
from mmengine.utils import ProgressBar


class ImageProgressBar(ProgressBar):
    """``[>>>   ] 120/5000, 9.8 images/s, elapsed: 12s, ETA: 498s``."""

    def update(self, num_tasks: int = 1) -> None:
        self.completed += num_tasks
        elapsed = self.timer.since_start()
        rate = self.completed / elapsed if elapsed > 0 else 0.0
        if self.task_num > 0:
            fraction = self.completed / float(self.task_num)
            eta = int(elapsed * (1 - fraction) / fraction + 0.5)
            msg = (f'\r[{{}}] {self.completed}/{self.task_num}, {rate:.1f} images/s, '
                   f'elapsed: {int(elapsed + 0.5)}s, ETA: {eta:5}s')
            bar_width = max(2, min(self.bar_width, int(self.terminal_width - len(msg)) + 2,
                                   int(self.terminal_width * 0.6)))
            marks = int(bar_width * fraction)
            self.file.write(msg.format('>' * marks + ' ' * (bar_width - marks)))
        else:
            self.file.write(f'\rcompleted: {self.completed}, elapsed: {int(elapsed + 0.5)}s, '
                            f'{rate:.1f} images/s')
        self.file.flush()

    def finish(self) -> None:
        self.file.write('\n')
        self.file.flush()
