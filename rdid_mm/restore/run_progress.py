"""What a restoration run tells its observers as it goes, and the progress bar tools/restore.py
shows with it.

:class:`RestoreHook` is the loop's one extension point for reporting (progress, a GUI, a metrics
exporter): the loop calls it and does not know what it draws, so reporting changes never touch
the loop itself.
"""
import sys
from typing import Optional

from rdid_mm.utils.progress import ImageProgressBar


class RestoreHook:
    """Called by :class:`rdid_mm.restore.loop.RestoreRun`; override the moments you need."""

    def before_run(self, total: int) -> None:
        """``total`` items (images and videos) are about to be restored, kept or failed."""

    def after_frame(self, name: str, done: int, total: int, stage: str = 'restore') -> None:
        """``done`` of the ``total`` frames counted in video ``name`` are through ``stage``
        (``'find faces'``: the boxes of every frame, read before restoring along face tracks;
        ``'restore'``): a video is one item, and may take hours."""

    def after_item(self, name: str, status: str, faces: int = 0) -> None:
        """One item is settled: ``status`` is ``restored``, ``copied_unchanged``, ``kept`` or
        ``failed``; ``faces`` boxes were restored in it (an image's; a video's are counted in
        its ``video_results``)."""

    def after_run(self, summary: dict) -> None:
        """The run's ``summary.json`` content, once it is written."""


class ProgressHook(RestoreHook):
    """Items done, items/s and ETA on ``file``: redrawn in place on a terminal, one line every
    ``every`` seconds in a log (see :class:`ImageProgressBar`)."""

    def __init__(self, file=None, every: float = 30.0):
        self.file = sys.stdout if file is None else file
        self.every = every
        self.bar: Optional[ImageProgressBar] = None
        self.frames: Optional[ImageProgressBar] = None  # the video being restored
        self.stage: Optional[str] = None

    def before_run(self, total: int) -> None:
        self.bar = ImageProgressBar(total, file=self.file, unit='items', every=self.every,
                                    label='restore ')

    def after_frame(self, name: str, done: int, total: int, stage: str = 'restore') -> None:
        if self.frames is not None and stage != self.stage:
            self.frames.finish()
            self.frames = None
        if self.frames is None:
            self.stage = stage
            self.frames = ImageProgressBar(total, file=self.file, unit='frames',
                                           every=self.every, label=f'{stage} {name}: ')
        self.frames.update_to(done)

    def after_item(self, name: str, status: str, faces: int = 0) -> None:
        if self.frames is not None:
            self.frames.finish()
            self.frames = None
        if self.bar is not None:
            self.bar.update()

    def after_run(self, summary: dict) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None
