"""What a terminal user sees of a Runner: progress and results; MMEngine's start-up dumps go to the
log file only.

MMEngine logs the whole environment (``System environment: ...``), the config's full text and the
hook table through the same logger as the training lines, so a two-iteration run prints hundreds
of lines before its first result. A filter on the console handler drops those three records; the
log file keeps everything. ``RDID_VERBOSE=1`` (``--verbose`` in ``tools/``) prints them again.
"""
import logging
import os

VERBOSE_ENV = 'RDID_VERBOSE'

# The first characters of the records that MMEngine's Runner writes once at start-up.
FILE_ONLY_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',  # Runner._log_env
    'Config:\n',  # Runner._log_env
    'Hooks will be executed in the following order',  # Runner.train/val/test
)


def verbose_console() -> bool:
    """True when the user asked for MMEngine's full console output."""
    return os.environ.get(VERBOSE_ENV, '').strip().lower() not in ('', '0', 'false', 'no')


class FileOnlyRecords(logging.Filter):
    """Drops MMEngine's start-up dumps from the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(FILE_ONLY_PREFIXES)


def keep_dumps_off_console(logger: logging.Logger) -> logging.Logger:
    """Attach :class:`FileOnlyRecords` to ``logger``'s console handlers (not its file handlers)."""
    if verbose_console():
        return logger
    for handler in logger.handlers:
        is_console = isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler)
        if is_console and not any(isinstance(f, FileOnlyRecords) for f in handler.filters):
            handler.addFilter(FileOnlyRecords())
    return logger
