"""The run's report: figures as JSON and a markdown table, both rewritten after every section
(atomically), so a run cut short still leaves what it measured; and the run's time budget."""
import datetime
import json
import os
import os.path as osp
import sys
import time
import traceback

from kit_common import REPO_ROOT
from kit_markdown import markdown


class Report:
    """The run's figures, written as JSON and a markdown table after every section."""

    def __init__(self, out_dir, args):
        self.out_dir = out_dir
        self.data = dict(
            started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            command=' '.join([osp.relpath(sys.argv[0], REPO_ROOT)] + sys.argv[1:]),
            dry_run=args.dry_run, size=args.size, batch_sizes=args.batch_sizes, steps=args.steps,
            warmup=args.warmup, time_budget_s=args.time_budget, sections={}, skipped=[],
            errors=[])

    def section(self, name, value):
        self.data['sections'][name] = value
        self.write()

    def skip(self, what, why):
        self.data['skipped'].append(dict(what=what, why=why))
        print(f'[gpu_check] skipped {what}: {why}', flush=True)

    def error(self, what, err):
        self.data['errors'].append(dict(what=what, error=f'{type(err).__name__}: {err}',
                                        traceback=traceback.format_exc(limit=8)))
        print(f'[gpu_check] ERROR in {what}: {type(err).__name__}: {err}', flush=True)

    def write(self):
        from rdid_mm.utils.io import atomic_write
        os.makedirs(self.out_dir, exist_ok=True)
        atomic_write(osp.join(self.out_dir, 'gpu_check.json'),
                          json.dumps(self.data, indent=1, default=str).encode())
        atomic_write(osp.join(self.out_dir, 'gpu_check.md'), markdown(self.data).encode())


class Budget:
    """Wall-clock budget of the whole run."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()
