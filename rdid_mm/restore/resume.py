"""Resume of a restore run: the settings that made an output folder, and a record per finished
item, so a killed run continues without redoing or losing outputs.

``OUT/.restore_state/settings.json`` holds the settings (a run with other settings is refused
unless ``overwrite``); ``records.jsonl`` gets one fsynced line per item once its output is in place
(written atomically, :mod:`rdid_mm.utils.io`). An item is kept on a rerun only if it has a record
and its output still decodes completely at the input's size; anything else is done again.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.logging import print_log
from PIL import Image

from rdid_mm.utils.io import atomic_write, incomplete_image

from .items import RestoreInputError

STATE_DIR = '.restore_state'


class RunState:
    """The settings of the run that made ``out_dir`` and its records (see the module)."""

    def __init__(self, out_dir: str, settings: dict, overwrite: bool):
        self.dir = osp.join(out_dir, STATE_DIR)
        self.records_file = osp.join(self.dir, 'records.jsonl')
        settings_file = osp.join(self.dir, 'settings.json')
        previous = None
        if osp.isfile(settings_file):
            with open(settings_file, encoding='utf-8') as f:
                previous = json.load(f)
        has_files = osp.isdir(out_dir) and any(n != STATE_DIR for n in os.listdir(out_dir))
        self.records: Dict[str, dict] = {}
        if overwrite:
            if osp.isfile(self.records_file):
                os.remove(self.records_file)
        elif previous is not None and previous != settings:
            raise RestoreInputError(f'{out_dir} holds a restore made with other settings; pass '
                                    '--overwrite to replace it')
        elif previous is None and has_files:
            raise RestoreInputError(f'{out_dir} is not empty and was not written by restore; '
                                    'pass --overwrite to write into it')
        elif osp.isfile(self.records_file):
            with open(self.records_file, encoding='utf-8') as f:
                for line in f:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # the last line of an interrupted run
                    self.records[record['name']] = record
        os.makedirs(self.dir, exist_ok=True)
        atomic_write(settings_file, json.dumps(settings, sort_keys=True).encode())

    def add(self, record: dict) -> None:
        """Record a finished item (after its output is in place)."""
        with open(self.records_file, 'a', encoding='utf-8') as f:
            f.write(json.dumps(record) + '\n')
            f.flush()
            os.fsync(f.fileno())

    def finished(self, name: str, target: str, source: str) -> bool:
        """Whether ``name`` was finished and its output still decodes completely at the size of
        its ``source`` image (a video's encode is committed atomically: its record suffices)."""
        if name not in self.records or not osp.isfile(target):
            return False
        if target.endswith('.png'):
            problem = incomplete_image(target, expected_size=_image_size(source))
            if problem:
                print_log(f'{target}: not a complete output ({problem}); restoring it again',
                          logger='current', level=30)
                return False
        return True


def _image_size(path: str) -> Optional[tuple]:
    """(width, height) from an image's header (None if unreadable: the run reports it)."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
