"""MMEngine's start-up dumps go to the log file, not the terminal, unless RDID_VERBOSE is set."""
import logging

from mmengine.logging import MMLogger

from rdid_mm.engine.console import FileOnlyRecords, keep_dumps_off_console

ENV_DUMP = '\n' + '-' * 60 + '\nSystem environment:\n    sys.platform: linux\n'


def _logger(tmp_path, name):
    return MMLogger.get_instance(name, logger_name=name, log_file=str(tmp_path / f'{name}.log'))


def _emit(logger):
    logger.info(ENV_DUMP)
    logger.info('Config:\nmodel = dict(type="RDIDGAN")')
    logger.info('Hooks will be executed in the following order:\nbefore_run: ...')
    logger.info('Iter(train) [1/4]  lr: 2.0000e-04')
    for handler in logger.handlers:
        handler.flush()


def test_dumps_stay_in_the_log_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('RDID_VERBOSE', raising=False)
    logger = keep_dumps_off_console(_logger(tmp_path, 'console_quiet'))
    _emit(logger)
    console = capsys.readouterr().out
    assert 'Iter(train) [1/4]' in console
    assert 'System environment' not in console and 'Config:' not in console
    assert 'Hooks will be executed' not in console
    log = (tmp_path / 'console_quiet.log').read_text()
    assert 'System environment' in log and 'Config:' in log and 'Hooks will be executed' in log
    file_handlers = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    assert file_handlers and not any(
        isinstance(f, FileOnlyRecords) for h in file_handlers for f in h.filters)


def test_rdid_verbose_brings_them_back(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('RDID_VERBOSE', '1')
    logger = keep_dumps_off_console(_logger(tmp_path, 'console_verbose'))
    _emit(logger)
    console = capsys.readouterr().out
    assert 'System environment' in console and 'Hooks will be executed' in console
