"""``summary.json`` and the log lines: counts, skips with reasons, missed-face audit.

Built from the per-image records in input order, so a resumed run writes the same summary as an
uninterrupted one. Only problems are kept as lists (skipped and failed files, missed faces);
everything else is a counter, so memory does not grow with the number of images.
"""
import logging
from collections import Counter
from typing import Optional

from mmengine.logging import print_log


class SummaryBuilder:
    """Accumulates records into the summary."""

    def __init__(self, input_info: dict, settings: dict, audit_available: bool):
        self.input_info = input_info
        self.settings = settings
        self.audit_available = audit_available
        self.status = Counter()
        self.skip_reasons = Counter()
        self.skipped, self.failed, self.missed = [], [], []
        self.without_face = 0
        self.boxes_by_source = Counter()
        self.detections_by_source = Counter()
        self.box_counts = Counter()
        self.smaller_than_block = Counter()
        self.persons_checked = 0
        self.images_with_missed = 0
        self.modes = Counter()
        self.orientation_not_applied = []

    def add(self, record: dict) -> None:
        status = record['status']
        self.status[status] += 1
        problem = dict(file_name=record['file_name'], reason=record['reason'],
                       detail=record['detail'])
        if status == 'skipped':
            self.skip_reasons[record['reason']] += 1
            self.skipped.append(problem)
            return
        if status == 'failed':
            self.failed.append(problem)
        self.modes[record['mode']] += 1
        if record['orientation'] != 1:
            self.orientation_not_applied.append(
                dict(file_name=record['file_name'], orientation=record['orientation']))
        self.detections_by_source.update(record['detections'])
        for key in ('dropped_empty', 'dropped_outside', 'merged'):
            self.box_counts[key] += record[key]
        self.persons_checked += record['audit_checked']
        if record['missed']:
            self.images_with_missed += 1
            self.missed.extend(dict(file_name=record['file_name'], image_id=record['image_id'],
                                    **miss) for miss in record['missed'])
        if status == 'done':
            self.smaller_than_block.update(record['smaller_than_block'])
            self.boxes_by_source.update(box[5] for box in record['boxes'])
            self.without_face += not record['boxes']

    def summary(self, images_listed: int, images_without_person: int,
                annotations: Optional[dict] = None) -> dict:
        summary = dict(
            input=self.input_info,
            settings=self.settings,
            images=dict(listed=images_listed, done=self.status['done'],
                        skipped=self.status['skipped'], failed=self.status['failed'],
                        without_face=self.without_face,
                        without_person_annotation=images_without_person,
                        converted_to_rgb={m: n for m, n in sorted(self.modes.items())
                                          if m != 'RGB'}),
            skipped=dict(by_reason=dict(sorted(self.skip_reasons.items())), files=self.skipped),
            failed=self.failed,
            faces=dict(
                pixelated_boxes=sum(self.boxes_by_source.values()),
                boxes_by_source=dict(sorted(self.boxes_by_source.items())),
                detections_by_source=dict(sorted(self.detections_by_source.items())),
                dropped_empty=self.box_counts['dropped_empty'],
                dropped_outside_image=self.box_counts['dropped_outside'],
                merged_overlapping=self.box_counts['merged'],
                smaller_than_block=dict(sorted(self.smaller_than_block.items(),
                                               key=lambda kv: int(kv[0])))),
            missed_face_audit=dict(
                available=self.audit_available, persons_checked=self.persons_checked,
                missed=len(self.missed), images_with_missed_faces=self.images_with_missed,
                missed_faces=self.missed),
            exif_orientation_not_applied=self.orientation_not_applied,
        )
        if annotations is not None:
            summary['annotations'] = annotations
        return summary


def log_record(record: dict) -> None:
    """Log what went wrong with one image, naming the file (nothing for a clean image)."""
    name = record['file_name']
    if record['status'] == 'skipped':
        print_log(f'skipped {name}: {record["reason"]}: {record["detail"]}', logger='current',
                  level=logging.WARNING)
        return
    if record['status'] == 'failed':
        print_log(f'failed {name}: {record["reason"]}: {record["detail"]}', logger='current',
                  level=logging.WARNING)
    elif record['missed']:
        print_log(f'{name}: {len(record["missed"])} face(s) missed: '
                  + '; '.join(m['reason'] for m in record['missed']), logger='current',
                  level=logging.WARNING)
    if record['dropped_empty'] or record['dropped_outside']:
        print_log(f'{name}: dropped {record["dropped_empty"]} empty and '
                  f'{record["dropped_outside"]} out-of-image face box(es)', logger='current',
                  level=logging.WARNING)
    small = {s: n for s, n in record['smaller_than_block'].items() if n}
    if small and record['status'] == 'done':
        print_log(f'{name}: faces smaller than one block (strength: count) {small}',
                  logger='current', level=logging.INFO)
    if record['status'] == 'done' and not record['boxes']:
        print_log(f'{name}: no face found; its mosaics equal the original', logger='current',
                  level=logging.INFO)
