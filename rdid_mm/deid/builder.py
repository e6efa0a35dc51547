"""The de-identified dataset builder: the loop over images, workers, resume, final files.

:func:`build_deid_dataset` turns COCO person images (or a folder of images, or a video) into the
layout of :mod:`rdid_mm.layout`. Images are processed by :class:`~.image_job.ImageJob`, in this
process or in a pool of worker processes; each image's record is written when its outputs are in
place, so an interrupted run (even by SIGKILL) resumes where it stopped and ends with the same
files. ``faces.json``, ``summary.json`` and the person-subset json are written at the end from the
records, streaming, in input order.
"""
import json
import logging
import os
import os.path as osp
import shutil
import sys
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_all_start_methods, get_context
from typing import Iterable, Optional, Sequence, Union

from mmengine.logging import print_log

from rdid_mm.layout import DeidLayout, mosaic_extension, output_name_problems
from rdid_mm.utils.io import atomic_open, atomic_write_json
from rdid_mm.utils.progress import ImageProgressBar

from .face_sources import FaceSourceUnion
from .image_job import STAGES, ImageJob, init_worker, run_in_worker
from .image_tasks import CocoPersonSource, FolderSource
from .pixelate_video import deidentify_video
from .settings import BuildSettings
from .summary import SummaryBuilder, log_record

FINISHED = ('done', 'failed')


def build_deid_dataset(ann_file: Optional[str] = None, img_dir: Optional[str] = None,
                       out_dir: Optional[str] = None, strengths: Sequence[int] = (8, ),
                       face_sources: Sequence[Union[str, dict]] = ('centerface', ),
                       wholebody_ann: Optional[str] = None, margin: float = 0.1,
                       workers: int = 0, publish: bool = False,
                       jpeg_quality: Optional[int] = None, require_all_faces: bool = False,
                       video: Optional[str] = None, audit_min_coverage: float = 0.5,
                       overwrite: bool = False, progress: bool = True,
                       person_images_only: bool = False) -> dict:
    """Build the de-identified dataset; return the summary (``summary.json`` plus ``timing``).

    Args:
        ann_file: COCO person json; without it ``img_dir`` is a plain folder of images.
        img_dir: the images (``file_name`` is relative to it).
        out_dir: the output folder; may not be an input folder or lie inside one.
        strengths: block sizes in pixels, one mosaic folder each.
        face_sources: registered names (``centerface``, ``dsfd``, ``coco_keypoints``,
            ``wholebody``) or config dicts; several are used together, overlaps merged.
        wholebody_ann: COCO-WholeBody json giving the ``wholebody`` source its face boxes.
        margin: each box grows by this fraction of its width (height) on each side.
        workers: worker processes (0: work in this process).
        publish: leave out ``gt/`` (write only what may be shared).
        jpeg_quality: write JPEG mosaics at this quality instead of lossless PNG.
        require_all_faces: an image with a missed face (see
            :mod:`rdid_mm.deid.missed_face_audit`) fails and gets no outputs, instead of being
            published.
        video: a video file to de-identify instead of images (frame count and rate are kept).
        audit_min_coverage: the pixelated fraction a WholeBody face box needs in the audit.
        overwrite: rebuild an output folder that was built with other settings.
        progress: show the progress bar.
        person_images_only: keep only the images of a COCO json with a person annotation. By
            default every image is carried through (those without a person or a face get a
            mosaic equal to the original), so the annotation file lists every image and the
            evaluation scores them all, as COCO does.
    """
    started = time.perf_counter()
    ann_file, img_dir, out_dir, wholebody_ann, video = (
        None if p is None else os.fspath(p)
        for p in (ann_file, img_dir, out_dir, wholebody_ann, video))
    strengths = _check_strengths(strengths)
    if out_dir is None:
        raise ValueError('out_dir is required')
    if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f'jpeg_quality must be in 1..100, got {jpeg_quality}')
    if margin < 0:
        raise ValueError(f'margin must be >= 0, got {margin}')
    if (video is None) == (img_dir is None):
        raise ValueError('give either img_dir (images) or video')
    if ann_file is not None and video is not None:
        raise ValueError('a video has no COCO annotations: ann_file and video exclude each other')
    input_dir = img_dir if video is None else osp.dirname(osp.abspath(video))
    check_output_dir(out_dir, input_dir)
    face_sources = tuple(face_sources)
    union = FaceSourceUnion(face_sources)
    kind = 'video' if video is not None else ('coco' if ann_file is not None else 'folder')
    if union.needs_annotations and kind != 'coco':
        needing = [s.name for s in union.sources if s.needs_annotations]
        raise ValueError(f'face sources {needing} read COCO annotations: give ann_file, or use '
                         'detector sources (centerface, dsfd) for a folder or a video')

    settings = BuildSettings(strengths=strengths, face_sources=face_sources, margin=float(margin),
                             publish=bool(publish), jpeg_quality=jpeg_quality,
                             require_all_faces=bool(require_all_faces),
                             audit_min_coverage=float(audit_min_coverage), input_kind=kind,
                             person_images_only=bool(person_images_only))
    layout = DeidLayout(out_dir, mosaic_extension(jpeg_quality))
    input_info = dict(kind=kind, ann_file=ann_file, img_dir=img_dir, wholebody_ann=wholebody_ann,
                      video=video)
    source = None
    if kind == 'coco':
        source = CocoPersonSource(ann_file, img_dir, wholebody_ann,
                                  person_images_only=person_images_only)
        if 'wholebody' in union.source_names and not source.has_face_boxes:
            raise ValueError('the wholebody face source needs COCO-WholeBody face boxes: give '
                             'wholebody_ann (or a COCO-WholeBody ann_file)')
    elif kind == 'folder':
        source = FolderSource(img_dir)
    elif not osp.isfile(video):
        raise FileNotFoundError(f'video not found: {video}')
    with _exclusive(layout):
        _prepare_output(layout, settings, overwrite)
        if kind == 'video':
            summary = deidentify_video(video, layout, settings, union, input_info, progress)
        else:
            summary = _build_images(source, layout, settings, union, input_info, workers,
                                    progress, started)
    return summary


def _check_strengths(strengths) -> tuple:
    if isinstance(strengths, int):
        strengths = (strengths, )
    result = []
    for s in strengths:
        if int(s) != s or s < 1:
            raise ValueError(f'strengths are block sizes in pixels (integers >= 1), got {s!r}')
        if int(s) not in result:
            result.append(int(s))
    if not result:
        raise ValueError('give at least one strength')
    return tuple(result)


def check_output_dir(out_dir: str, input_dir: Optional[str]) -> None:
    """Refuse an output folder that is the input folder or lies inside it."""
    if input_dir is None:
        return
    out_real, in_real = osp.realpath(out_dir), osp.realpath(input_dir)
    if out_real == in_real or out_real.startswith(in_real.rstrip(os.sep) + os.sep):
        raise ValueError(f'the output folder {out_dir} is the input folder {input_dir} or lies '
                         'inside it; choose an output folder outside the inputs')


@contextmanager
def _exclusive(layout: DeidLayout):
    """Hold a lock on the output folder, so two runs never write into it at once."""
    os.makedirs(layout.state_dir, exist_ok=True)
    with open(layout.lock_file, 'w') as lock:
        try:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass
        except BlockingIOError:
            raise RuntimeError(f'another build is writing into {layout.root}') from None
        yield


def _prepare_output(layout: DeidLayout, settings: BuildSettings, overwrite: bool) -> None:
    """Check (or reset) the settings an output folder was built with; clear staged files."""
    wanted = settings.to_json()
    if osp.isfile(layout.settings_file):
        with open(layout.settings_file, encoding='utf-8') as f:
            previous = json.load(f)
        if previous != wanted:
            if not overwrite:
                changed = sorted(k for k in set(previous) | set(wanted)
                                 if previous.get(k) != wanted.get(k))
                raise ValueError(
                    f'{layout.root} was built with other settings ({", ".join(changed)} differ); '
                    'use another output folder, or overwrite=True (--overwrite) to rebuild it')
            _remove_outputs(layout)
    elif overwrite:
        _remove_outputs(layout)
    _clear_staging(layout.tmp_dir)
    atomic_write_json(layout.settings_file, wanted, indent=1, staging_dir=layout.tmp_dir)


def _clear_staging(tmp_dir: str) -> None:
    """Remove what an interrupted run left in the staging folder."""
    if osp.isdir(tmp_dir):
        shutil.rmtree(tmp_dir)
    os.makedirs(tmp_dir, exist_ok=True)


def _remove_outputs(layout: DeidLayout) -> None:
    print_log(f'overwrite: removing the previous outputs in {layout.root}', logger='current')
    for name in ('gt', 'mosaic', 'annotations'):
        shutil.rmtree(osp.join(layout.root, name), ignore_errors=True)
    for path in (layout.faces_file, layout.summary_file):
        if osp.exists(path):
            os.remove(path)
    shutil.rmtree(osp.join(layout.state_dir, 'records'), ignore_errors=True)


def _read_record(layout: DeidLayout, file_name: str) -> Optional[dict]:
    path = layout.record(file_name)
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _build_images(source, layout, settings, union, input_info, workers, progress, started):
    problems = output_name_problems(source.file_names)
    finished = {name for name in source.file_names
                if (_read_record(layout, name) or {}).get('status') in FINISHED}
    pending = (dict(task, problem=problems.get(task['file_name'])) for task in source
               if task['file_name'] not in finished)
    resumed = len(finished)
    to_process = len(source) - resumed
    if resumed:
        print_log(f'resuming: {resumed} of {len(source)} images are already done',
                  logger='current')
    stage_seconds = defaultdict(float)
    run_started = time.perf_counter()
    bar = ImageProgressBar(to_process, file=sys.stdout) if progress and to_process else None
    results = _run_tasks(pending, layout, settings, union, workers) if to_process else ()
    first_result = None
    for record, timings in results:
        if first_result is None:
            first_result = time.perf_counter() - run_started
        log_record(record)
        for stage, seconds in timings.items():
            stage_seconds[stage] += seconds
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.finish()
    run_seconds = time.perf_counter() - run_started

    summary = _write_final_files(source, layout, settings, input_info)
    timing = dict(
        images_processed=to_process, images_resumed=resumed,
        seconds=round(time.perf_counter() - started, 3), loop_seconds=round(run_seconds, 3),
        first_result_seconds=None if first_result is None else round(first_result, 3),
        images_per_second=round(to_process / run_seconds, 3) if run_seconds > 0 else None,
        stage_seconds={stage: round(stage_seconds[stage], 3) for stage in STAGES})
    _log_final(summary, timing, layout)
    return dict(summary, timing=timing)


def _run_tasks(tasks: Iterable[dict], layout, settings, union, workers: int) -> Iterable:
    """Yield ``(record, timings)`` per task, as tasks finish; tasks are read as they are needed."""
    if workers <= 0:
        job = ImageJob(settings, layout, sources=union)
        for task in tasks:
            yield job(task)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    max_in_flight = 4 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(),
                             initializer=init_worker,
                             initargs=(settings, layout, threads)) as pool:
        queue = iter(tasks)
        in_flight = set()
        while True:
            while len(in_flight) < max_in_flight:
                task = next(queue, None)
                if task is None:
                    break
                in_flight.add(pool.submit(run_in_worker, task))
            if not in_flight:
                break
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


def _worker_context():
    """Worker processes start from a fresh interpreter (never a fork of this process, whose
    threads or loaded models could be copied in a bad state). With ``forkserver`` the imports are
    paid once, in the server, instead of once per worker."""
    if 'forkserver' in get_all_start_methods():
        context = get_context('forkserver')
        context.set_forkserver_preload(['rdid_mm.deid.image_job'])
        return context
    return get_context('spawn')


def _write_final_files(source, layout: DeidLayout, settings: BuildSettings,
                       input_info: dict) -> dict:
    builder = SummaryBuilder(input_info, settings.to_json(),
                             audit_available=settings.input_kind == 'coco')
    done_ids = []
    with atomic_open(layout.faces_file, 'w', layout.tmp_dir) as faces:
        faces.write('{')
        first = True
        for task in source:
            record = _read_record(layout, task['file_name'])
            if record is None:
                raise RuntimeError(f'no record for {task["file_name"]} after processing it')
            builder.add(record)
            if record['status'] != 'done':
                continue
            done_ids.append(record['image_id'])
            faces.write(('\n' if first else ',\n') + json.dumps(record['file_name'])
                        + ': ' + json.dumps(record['boxes']))
            first = False
        faces.write('\n}\n')
    annotations = None
    if isinstance(source, CocoPersonSource):
        subset = source.person_subset(done_ids)
        atomic_write_json(layout.annotations_file, subset, staging_dir=layout.tmp_dir)
        annotations = dict(file=osp.relpath(layout.annotations_file, layout.root),
                           images=len(subset['images']), annotations=len(subset['annotations']))
    summary = builder.summary(len(source), source.images_without_person, annotations)
    atomic_write_json(layout.summary_file, summary, indent=1, staging_dir=layout.tmp_dir)
    return summary


def _log_final(summary: dict, timing: dict, layout: DeidLayout) -> None:
    images, faces, audit = summary['images'], summary['faces'], summary['missed_face_audit']
    lines = [
        f'de-identified dataset in {layout.root}:',
        f'  images: {images["done"]} done, {images["skipped"]} skipped'
        f'{" " + str(summary["skipped"]["by_reason"]) if images["skipped"] else ""}, '
        f'{images["failed"]} failed, '
        f'{images["without_face"]} without a face',
        f'  faces: {faces["pixelated_boxes"]} boxes pixelated {faces["boxes_by_source"]}, '
        f'{faces["dropped_empty"] + faces["dropped_outside_image"]} dropped, '
        f'smaller than one block {faces["smaller_than_block"]}',
    ]
    if audit['available']:
        lines.append(f'  missed-face audit: {audit["missed"]} missed of '
                     f'{audit["persons_checked"]} persons checked, in '
                     f'{audit["images_with_missed_faces"]} images')
    if timing['images_processed']:
        lines.append(f'  speed: {timing["images_processed"]} images in '
                     f'{timing["loop_seconds"]:.1f} s ({timing["images_per_second"]:.2f} '
                     f'images/s); seconds per stage {timing["stage_seconds"]}')
    print_log('\n'.join(lines), logger='current', level=logging.INFO)
