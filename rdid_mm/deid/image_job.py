"""The work on one image: decode, detect, pixelate at each strength, encode, write, record.

The record (under ``OUT/.deid_state/records/``, named by a hash of the file name) is written last,
so its presence with status ``done`` or ``failed`` means every output of the image is in place; a
resumed run skips those images and retries skipped ones. Records hold everything ``faces.json``
and ``summary.json`` are made of, so the final files do not depend on which run, worker or order
produced an image.
"""
import os
import time
import traceback
from collections import defaultdict
from typing import Dict, Optional, Tuple

from rdid_mm.layout import DeidLayout
from rdid_mm.utils.io import (
    ImageReadError,
    atomic_link_or_copy,
    atomic_write,
    atomic_write_json,
    encode_image,
    read_image,
)

from .face_boxes import prepare_face_boxes
from .face_sources import FaceSourceUnion
from .missed_face_audit import audit_faces
from .pixelate import pixelate_boxes
from .settings import BuildSettings

STAGES = ('decode', 'detect', 'pixelate', 'encode', 'write')


class ImageJob:
    """Processes tasks (see :mod:`rdid_mm.deid.image_tasks`) with one set of face sources."""

    def __init__(self, settings: BuildSettings, layout: DeidLayout,
                 sources: Optional[FaceSourceUnion] = None, num_threads: Optional[int] = None):
        self.settings = settings
        self.layout = layout
        self.sources = sources or FaceSourceUnion(settings.face_sources)
        if num_threads:
            for source in self.sources.sources:
                if getattr(source, 'num_threads', False) is None:
                    source.num_threads = num_threads
        self.staging_dir = layout.tmp_dir

    def __call__(self, task: dict) -> Tuple[dict, Dict[str, float]]:
        """Return ``(record, seconds per stage)``; bad input gives a record, never an exception."""
        timings = defaultdict(float)
        if task.get('problem'):
            reason, detail = task['problem']
            record = self._record(task, 'skipped', reason=reason, detail=detail)
            atomic_write_json(self.layout.record(task['file_name']), record,
                              staging_dir=self.staging_dir)
            return record, dict(timings)
        try:
            record = self._process(task, timings)
        except ImageReadError as err:
            record = self._record(task, 'skipped', reason=err.reason,
                                  detail=f'{err.detail} ({err.path})')
        except Exception as err:  # noqa: BLE001 - one bad image must not stop the dataset
            detail = f'{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}'
            self._remove_outputs(task['file_name'])
            record = self._record(task, 'skipped', reason='error', detail=detail)
        atomic_write_json(self.layout.record(task['file_name']), record,
                          staging_dir=self.staging_dir)
        return record, dict(timings)

    def _remove_outputs(self, file_name: str) -> None:
        paths = [self.layout.mosaic(file_name, s) for s in self.settings.strengths]
        paths.append(self.layout.gt(file_name))
        for path in paths:
            if os.path.lexists(path):
                os.remove(path)

    @staticmethod
    def _record(task: dict, status: str, reason: Optional[str] = None,
                detail: Optional[str] = None, **fields) -> dict:
        return dict(file_name=task['file_name'], image_id=task.get('image_id'), status=status,
                    reason=reason, detail=detail, **fields)

    def _process(self, task: dict, timings: Dict[str, float]) -> dict:
        start = time.perf_counter()
        expected = None
        if task.get('width') and task.get('height'):
            expected = (task['width'], task['height'])
        decoded = read_image(task['path'], expected_size=expected)
        image = decoded.rgb
        height, width = image.shape[:2]
        timings['decode'] += time.perf_counter() - start

        start = time.perf_counter()
        detections = self.sources(image, task.get('annotations'))
        boxes, stats = prepare_face_boxes(detections, width, height, self.settings.margin)
        checked, missed = audit_faces(task.get('annotations'), boxes, width, height,
                                      self.settings.audit_min_coverage)
        timings['detect'] += time.perf_counter() - start

        record = self._record(
            task, 'done', boxes=[box.to_record() for box in boxes],
            detections=stats.detections, dropped_empty=stats.dropped_empty,
            dropped_outside=stats.dropped_outside, merged=stats.merged,
            smaller_than_block={
                str(s): sum(1 for b in boxes if min(b.width, b.height) < s)
                for s in self.settings.strengths},
            audit_checked=checked, missed=missed, mode=decoded.mode,
            orientation=decoded.orientation)
        if missed and self.settings.require_all_faces:
            record.update(status='failed', reason='missed_faces',
                          detail='; '.join(m['reason'] for m in missed))
            return record

        corners = [(b.x1, b.y1, b.x2, b.y2) for b in boxes]
        for strength in self.settings.strengths:
            start = time.perf_counter()
            mosaic = pixelate_boxes(image, corners, strength) if corners else image
            timings['pixelate'] += time.perf_counter() - start
            start = time.perf_counter()
            target = self.layout.mosaic(task['file_name'], strength)
            data = encode_image(mosaic, self.settings.jpeg_quality)
            timings['encode'] += time.perf_counter() - start
            start = time.perf_counter()
            atomic_write(target, data, staging_dir=self.staging_dir)
            timings['write'] += time.perf_counter() - start
        if not self.settings.publish:
            start = time.perf_counter()
            atomic_link_or_copy(task['path'], self.layout.gt(task['file_name']),
                                staging_dir=self.staging_dir)
            timings['write'] += time.perf_counter() - start
        return record


_WORKER_JOB: Optional[ImageJob] = None


def init_worker(settings: BuildSettings, layout: DeidLayout, num_threads: int) -> None:
    """Process-pool initializer: one ``ImageJob`` (and one set of models) per worker."""
    global _WORKER_JOB
    import cv2
    cv2.setNumThreads(1)
    _WORKER_JOB = ImageJob(settings, layout, num_threads=num_threads)


def run_in_worker(task: dict):
    return _WORKER_JOB(task)

