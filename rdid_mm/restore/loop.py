"""The one restoration loop, for every input: a builder output, a folder (recursively), an image,
a video or a COCO json.

Boxes come from a boxes file, the builder's ``faces.json`` or the localiser
(:mod:`.box_sources`); region mode (crop with context, batch, paste:
:mod:`rdid_mm.models.region_restore`) changes only the pixels inside them, whole-image mode
keeps the generator's output everywhere. Every output is written atomically and recorded
(:mod:`.resume`), so an interrupted run resumes.
Images are restored in batches: the face crops of ``images_per_batch`` images go through the
generator together (crops of one size bucket share a call), while the next images are decoded and
their boxes found, and finished outputs are encoded and written, in background threads
(:mod:`.background`).
``OUT/summary.json`` counts restored, copied unchanged (no box), failed, kept (already there) and
redone (a torn or unrecorded output replaced), with one message per problem; names in it are
relative to the input, so no input path leaves the machine with the outputs.
"""
import hashlib
import json
import os
import os.path as osp
import time
from collections import deque
from typing import List, Optional, Sequence

from mmengine.logging import print_log

from rdid_mm.layout import DeidLayout
from rdid_mm.models.region_restore import Restorer, box_corners, is_empty, restore_regions
from rdid_mm.utils.io import ImageReadError, atomic_write, read_image, remove_staging_files
from rdid_mm.utils.provenance import file_sha256

from .background import BackgroundIO
from .box_sources import BoxesFile, choose_box_source, frame_key
from .items import Item, RestoreInputError, check_output_folder, list_items, read_coco
from .media import write_png
from .regions import restore_whole
from .restore_video import CODECS, TEMPORAL_MODES, restore_video
from .resume import RunState
from .run_progress import RestoreHook

IMAGES_PER_BATCH = 16  # images whose crops share generator calls (fills the size buckets)
# Memory: the pending batch, the images read ahead and the outputs waiting to be written are each
# kept to about this many pixels (about 200 MB of RGB each)
PENDING_PIXELS = 64_000_000


def restore_input(restorer: Restorer, input_path: str, out_dir: str,
                  boxes_file: Optional[str] = None, whole_image: bool = False,
                  ann_file: Optional[str] = None, overwrite: bool = False, codec: str = 'h264',
                  context: float = 0.5, images_per_batch: int = IMAGES_PER_BATCH,
                  hooks: Sequence[RestoreHook] = (), temporal: str = 'track',
                  background_io: bool = True, learned_localiser: bool = True,
                  network_every: Optional[int] = None) -> dict:
    """Restore ``input_path`` into ``out_dir``; returns (and writes) the summary.

    Args:
        restorer: restores a list of uint8 RGB arrays
            (:func:`rdid_mm.models.restorers.model_restorer`).
        input_path: a folder (searched recursively), an image or a video; with ``ann_file``,
            the folder the json's ``file_name``s are relative to.
        boxes_file: ``{relative_path: [[x, y, w, h, ...], ...]}``; video frames as
            ``name#000123``.
        whole_image: keep the generator's output everywhere (no boxes needed).
        ann_file: a COCO json: one PNG per listed image, and ``OUT/annotations/<json name>``
            pointing at them.
        overwrite: write into an ``out_dir`` that holds other files or another run's outputs.
        codec: ``h264`` or ``ffv1`` (lossless) for videos.
        context: the context around each box restored with it, as a fraction of its size.
        images_per_batch: images whose crops share generator calls.
        hooks: told of the run's progress (:class:`.run_progress.RestoreHook`).
        temporal: for videos, ``track`` (one restoration per face track, warped along it) or
            ``frame`` (each frame on its own); see :mod:`.restore_video`.
        background_io: decode ahead and write behind the model in threads (False: one
            thread does everything in turn; the outputs are the same).
        learned_localiser: where the localiser gives the boxes, with its learned detector
            (False: the lattice alone, about 6x faster on 1080p frames, lower recall).
        network_every: the learned detector on the whole of every N-th video frame, between
            only around the faces (:mod:`.strided_localiser`; 1: on every frame; default
            ``NETWORK_EVERY``). This and ``learned_localiser=False`` are refused
            (:class:`RestoreInputError`) where the localiser gives no boxes: whole-image mode,
            a boxes file, a builder output's faces.json.
    """
    input_path, out_dir = os.fspath(input_path), os.fspath(out_dir)
    if not osp.exists(input_path):
        raise RestoreInputError(f'{input_path}: no such file or folder')
    if codec not in CODECS:
        raise RestoreInputError(f'--codec must be one of {sorted(CODECS)}, got {codec!r}')
    if temporal not in TEMPORAL_MODES:
        raise RestoreInputError(f'--temporal must be one of {list(TEMPORAL_MODES)}, '
                                f'got {temporal!r}')
    check_output_folder(input_path, out_dir)
    coco = read_coco(ann_file) if ann_file is not None else None
    items = list_items(input_path, codec, coco)
    source = choose_box_source(input_path, boxes_file, whole_image, coco is not None,
                               learned_localiser, network_every)
    settings = dict(input=hashlib.sha256(osp.realpath(input_path).encode()).hexdigest()[:16],
                    boxes=source.label if source else 'whole_image',
                    boxes_file_sha=_sha(boxes_file), whole_image=whole_image,
                    ann_file_sha=_sha(ann_file), codec=codec, context=context)
    if source is not None and any(item.is_video for item in items):
        settings['temporal'] = temporal  # only then: images resume whatever --temporal says
    run = RestoreRun(restorer, source, out_dir, settings, overwrite, codec, context,
                     images_per_batch, hooks, temporal, background_io)
    run.check_boxes_file(items)
    for hook in run.hooks:
        hook.before_run(len(items))
    run.restore_items(items)
    if coco is not None:
        written = {item.name: item.output for item in items}
        copy = dict(coco, images=[dict(img, file_name=written[img['file_name']])
                                  for img in coco['images']])
        atomic_write(osp.join(out_dir, 'annotations', osp.basename(ann_file)),
                     json.dumps(copy).encode())
    return run.finish()


def restore_deid_folder(restorer: Restorer, deid_dir: str, strength: int, out_dir: str,
                        whole_image: bool = False, overwrite: bool = False,
                        hooks: Sequence[RestoreHook] = ()) -> dict:
    """Restore a builder output's ``mosaic/s{strength}`` with its ``faces.json`` boxes: the same
    run as :func:`restore_input` on that mosaic folder (``OUT/<stem>.png`` per image,
    :func:`rdid_mm.layout.restored_path`)."""
    layout = DeidLayout(deid_dir)
    for path in (layout.mosaic_dir(strength), layout.faces_file):
        if not osp.exists(path):
            raise FileNotFoundError(f'not a de-identified dataset folder: {path} is missing')
    if osp.realpath(out_dir) == osp.realpath(deid_dir):
        raise RestoreInputError(f'--out {out_dir} must not be the dataset folder')
    check_output_folder(osp.join(deid_dir, 'mosaic'), out_dir)
    return restore_input(restorer, layout.mosaic_dir(strength), out_dir, whole_image=whole_image,
                         overwrite=overwrite, hooks=hooks)


class RestoreRun:
    """One run's output folder, counts and pending batch: :meth:`restore_items`, then
    :meth:`finish`."""

    def __init__(self, restorer: Restorer, source, out_dir: str, settings: dict,
                 overwrite: bool, codec: str, context: float, images_per_batch: int,
                 hooks: Sequence[RestoreHook] = (), temporal: str = 'track',
                 background_io: bool = True):
        self.restorer, self.source, self.out_dir = restorer, source, out_dir
        self.temporal = temporal
        self.hooks, self.started = list(hooks), time.monotonic()
        self.overwrite, self.codec, self.context = overwrite, codec, context
        self.images_per_batch, self.background_io = images_per_batch, background_io
        self.io: Optional[BackgroundIO] = None
        self.image_pixels = PENDING_PIXELS  # of the last image loaded: one read ahead at first
        os.makedirs(out_dir, exist_ok=True)
        self.state = RunState(out_dir, settings, overwrite)
        remove_staging_files(out_dir)  # what a killed run was writing (a video's encode, a PNG)
        self.summary = dict(restored=0, copied_unchanged=0, failed=0, kept=0, redone=0, videos=0,
                            boxes=0, boxes_source=settings['boxes'], messages=[])
        self.pending: List[tuple] = []  # (item, image, boxes, existed)
        self.owners = {}

    def note(self, kind: str, name: str, message: str) -> None:
        self.summary['messages'].append(dict(kind=kind, file=name, message=message))
        print_log(f'{name}: {message}', logger='current', level=30)

    def fail(self, item: Item, message: str) -> None:
        self.note('failed', item.name, message.replace(item.path, item.name))
        self.summary['failed'] += 1
        self._settled(item.name, 'failed')

    def check_boxes_file(self, items: List[Item]) -> None:
        if isinstance(self.source, BoxesFile):
            unmatched = self.source.unmatched(item.name for item in items)
            self.summary['boxes_unmatched'] = len(unmatched)
            if unmatched:
                self.note('boxes_unmatched', osp.basename(self.source.path),
                          f'{len(unmatched)} entries match no input (e.g. {unmatched[:3]})')

    def restore_items(self, items: Sequence[Item]) -> None:
        """Keep, restore or count as failed every item, in order; images are decoded up to one
        batch ahead and written behind (:class:`.background.BackgroundIO`)."""
        with BackgroundIO(self.background_io, PENDING_PIXELS) as self.io:
            ahead = deque()  # (item, existed, future of (image, boxes))
            for item in items:
                existed = self.check(item)
                if existed is None:
                    continue
                if item.is_video:
                    self.take(ahead, keep=0)
                    self.flush()
                    self.io.drain()  # the images before it are recorded before it
                    self.video(item, osp.join(self.out_dir, item.output), existed)
                    continue
                ahead.append((item, existed, self.io.read(self.load, item)))
                # one batch ahead, fewer for large images (memory)
                self.take(ahead, keep=max(1, min(self.images_per_batch,
                                                 PENDING_PIXELS // self.image_pixels)))
            self.take(ahead, keep=0)
            self.flush()

    def check(self, item: Item) -> Optional[bool]:
        """Whether ``item``'s output exists already (to be redone); None: settled here (kept, or
        failed because another input has its output name)."""
        target = osp.join(self.out_dir, item.output)
        if self.owners.setdefault(item.output, item.name) != item.name:
            self.fail(item, f'its output {item.output} is also that of '
                      f'{self.owners[item.output]}; rename one of them')
            return None
        if not self.overwrite and self.state.finished(item.name, target, item.path):
            self.summary['kept'] += 1
            self._settled(item.name, 'kept')
            return None
        return osp.isfile(target)

    def load(self, item: Item) -> tuple:
        """The image and its boxes (a reader thread's job)."""
        image = read_image(item.path).rgb
        return image, (self.source.boxes(item.name, image) if self.source else None)

    def take(self, ahead: deque, keep: int) -> None:
        """Add the loaded images to the batch until at most ``keep`` are still ahead."""
        while len(ahead) > keep:
            item, existed, future = ahead.popleft()
            try:
                image, boxes = future.result()
            except ImageReadError as err:
                self.fail(item, f'{err.reason}: {err.detail}')
                continue
            self.image_pixels = max(1, image.shape[0] * image.shape[1])
            self.add(item, image, boxes, existed)

    def add(self, item: Item, image, boxes: Optional[list], existed: bool) -> None:
        """Restore a whole image now, or queue an image's boxes for the next batch."""
        target = osp.join(self.out_dir, item.output)
        if self.source is None:
            restored = restore_whole(image, self.restorer)
            self.io.write(write_png, target, restored, weight=restored.shape[0] * restored.shape[1],
                          then=lambda: self.done(item, 'restored', existed))
            return
        height, width = image.shape[:2]
        inside = [b for b in boxes if not is_empty(box_corners(b, height, width))]
        if len(inside) < len(boxes):
            self.note('boxes_outside', item.name, f'{len(boxes) - len(inside)} boxes lie outside '
                      f'the {width}x{height} image; ignored')
        self.pending.append((item, image, inside, existed))
        if (len(self.pending) >= self.images_per_batch
                or sum(p[1].shape[0] * p[1].shape[1] for p in self.pending) > PENDING_PIXELS):
            self.flush()

    def flush(self) -> None:
        """Restore the pending images' boxes together; write and record them behind the next
        batch."""
        with_boxes = [p for p in self.pending if p[2]]
        results = restore_regions([p[1] for p in with_boxes], [p[2] for p in with_boxes],
                                  self.restorer, context=self.context) if with_boxes else []
        restored = {p[0].name: r for p, r in zip(with_boxes, results)}
        for item, image, boxes, existed in self.pending:
            status = 'restored' if boxes else 'copied_unchanged'
            self.io.write(write_png, osp.join(self.out_dir, item.output),
                          restored.get(item.name, image), weight=image.shape[0] * image.shape[1],
                          then=lambda i=item, s=status, e=existed, n=len(boxes):
                          self.done(i, s, e, n))
        self.pending.clear()
        self.io.acknowledge()

    def done(self, item: Item, status: str, existed: bool, boxes: Optional[int] = None) -> None:
        self.summary[status] += 1
        self.summary['redone'] += existed
        record = dict(name=item.name, status=status)
        if boxes is not None:
            self.summary['boxes'] += boxes
            record['boxes'] = boxes
        self.state.add(record)
        self._settled(item.name, status, boxes or 0)

    def _settled(self, name: str, status: str, faces: int = 0) -> None:
        for hook in self.hooks:
            hook.after_item(name, status, faces)

    def video(self, item: Item, target: str, existed: bool) -> None:
        source = self.source

        def frame_boxes(index, frame):
            return source.boxes(frame_key(item.name, index), frame)

        def on_frame(done, total, stage):
            for hook in self.hooks:
                hook.after_frame(item.name, done, total, stage)

        try:
            result = restore_video(item.path, target, self.restorer, codec=self.codec,
                                   boxes_for_frame=frame_boxes if source else None,
                                   whole_image=source is None, temporal=self.temporal,
                                   context=self.context, on_frame=on_frame)
        except ValueError as err:
            return self.fail(item, str(err))
        self.summary['videos'] += 1
        self.summary.setdefault('video_results', {})[item.name] = result
        if result['frames'] != result['frames_in']:
            self.note('broken_frames', item.name, f"{result['frames_in']} frames counted, "
                      f"{result['frames']} decoded and restored")
        return self.done(item, 'restored', existed)

    def finish(self) -> dict:
        """Write ``summary.json``, log the counts and the time, tell the hooks; return it."""
        s = self.summary
        atomic_write(osp.join(self.out_dir, 'summary.json'), json.dumps(s, indent=1).encode())
        for hook in self.hooks:
            hook.after_run(s)
        print_log(summary_text(s, self.out_dir, time.monotonic() - self.started),
                  logger='current')
        return s


def summary_text(summary: dict, out_dir: str, seconds: float) -> str:
    """The few lines a run ends with: images, faces, skipped, time."""
    s = summary
    processed = s['restored'] + s['copied_unchanged'] + s['failed']
    videos = f", {s['videos']} videos" if s['videos'] else ''
    rate = f', {processed / seconds:.2f} items/s' if seconds > 0 and processed else ''
    if s['boxes_source'] == 'whole_image':
        faces = 'whole images restored (no face boxes)'
    else:
        video_boxes = sum(v['boxes'] for v in s.get('video_results', {}).values())
        faces = f"{s['boxes'] + video_boxes} faces restored"
        if s['videos']:
            faces += f' ({video_boxes} in video frames)'
        faces += f"; boxes from {s['boxes_source']}"
    return (f"restored {s['restored'] - s['videos']} images{videos} and copied "
            f"{s['copied_unchanged']} without a box unchanged into {out_dir} in {seconds:.1f} s"
            f'{rate}\n  {faces}\n'
            f"  skipped: {s['kept']} already there, {s['failed']} failed; "
            f"{s['redone']} earlier outputs redone")


def _sha(path: Optional[str]) -> Optional[str]:
    return file_sha256(path)[:16] if path is not None else None
