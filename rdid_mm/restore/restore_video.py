"""Restoring a video: every frame through region (or whole-image) restoration, back to a video
with the same frame count, frame rate and size, the audio stream copied.

Codecs: ``h264`` (libx264, CRF 18, 4:4:4 chroma, ``.mp4``) or ``ffv1`` (lossless, ``.mkv``): with
FFV1 the pixels outside the boxes equal the decoded input frames exactly. The input's container
metadata is dropped (``-map_metadata -1``) and replaced by the synthetic-restoration comment.

Temporal consistency (``temporal``): ``track`` (the default) reads the boxes of every frame
first, links them into face tracks with smoothed boxes (:mod:`.face_tracks`) and restores each
track once per key, warped into every frame (:mod:`.track_restore`). ``frame`` restores each
frame on its own: a box that moved less than ``stable_iou`` from the previous frame's keeps the
previous coordinates, and when the mosaic inside it is unchanged (mean absolute change below
``reuse_change`` grey levels: codec noise) the previous restoration is reused. The result's
``flicker`` is the mean absolute change of each restored box between consecutive frames (of the
same track, or the same box), the output's against the input's.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from rdid_mm.models.region_restore import box_corners, is_empty, restore_regions
from rdid_mm.utils.boxes import box_to_slices, xywh_iou
from rdid_mm.utils.io import commit_staging_file, new_staging_file

from .face_tracks import track_video
from .media import SYNTHETIC_TAG
from .regions import restore_whole
from .strided_localiser import StridedLocaliser
from .track_restore import TrackStableRestorer, warp_box

VIDEO_EXTENSIONS = ('.mp4', '.mov', '.avi', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.ts')
CODECS = {'h264': ('libx264', '.mp4', 'yuv444p', ['-crf', '18']),
          'ffv1': ('ffv1', '.mkv', 'bgr0', [])}


def is_video(path: str) -> bool:
    return path.lower().endswith(VIDEO_EXTENSIONS)


def video_info(path: str) -> dict:
    """Size, fps, frame count and audio codec of a video (``ValueError`` if unreadable)."""
    import imageio_ffmpeg
    try:
        reader = imageio_ffmpeg.read_frames(path)
        meta = next(reader)
        reader.close()
        frames = imageio_ffmpeg.count_frames_and_secs(path)[0]
    except (OSError, RuntimeError, StopIteration) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise ValueError(f'{path}: not a readable video ({reason})') from None
    return dict(size=tuple(meta['size']), fps=meta['fps'], frames=frames,
                audio_codec=meta.get('audio_codec'))


def read_video_frames(path: str):
    """Yield ``H x W x 3`` uint8 frames, none dropped or duplicated."""
    import imageio_ffmpeg
    reader = imageio_ffmpeg.read_frames(path, output_params=['-fps_mode', 'passthrough'])
    meta = next(reader)
    width, height = meta['size']
    try:
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


def _stabilise(boxes: List[list], previous: List[list], stable_iou: float) -> List[list]:
    out = []
    for box in boxes:
        match = max(previous, key=lambda p: xywh_iou(p, box), default=None)
        out.append(list(match) if match is not None and xywh_iou(match, box) >= stable_iou
                   else box)
    return out


TEMPORAL_MODES = ('track', 'frame')


def restore_video(path: str, target: str, restorer, codec: str = 'h264',
                  boxes_for_frame: Optional[Callable[[int, np.ndarray], Sequence]] = None,
                  whole_image: bool = False, temporal: str = 'track', context: float = 0.5,
                  stable_iou: float = 0.8, reuse_change: float = 1.5,
                  on_frame: Optional[Callable[[int, int, str], None]] = None) -> dict:
    """Restore ``path`` into ``target`` (written atomically); returns counts and the flicker.

    ``boxes_for_frame(index, frame)`` gives a frame's boxes (default: the localiser, its learned
    detector on the whole frame every few frames: :class:`.strided_localiser.StridedLocaliser`);
    ``temporal``: ``track`` (faces tracked, one restoration per track key warped along it:
    :mod:`.track_restore`) or ``frame`` (each frame restored on its own);
    ``on_frame(frames done, frames counted, stage)`` follows a long video's progress: stage
    ``'find faces'`` (track mode's first pass, the boxes of every frame) then ``'restore'``.
    """
    import imageio_ffmpeg
    if codec not in CODECS:
        raise ValueError(f'codec must be one of {sorted(CODECS)}, got {codec!r}')
    if temporal not in TEMPORAL_MODES:
        raise ValueError(f'temporal must be one of {list(TEMPORAL_MODES)}, got {temporal!r}')
    info = video_info(path)
    width, height = info['size']
    boxes_for_frame = boxes_for_frame or StridedLocaliser()
    if whole_image:
        frames = _WholeFrames(restorer)
    elif temporal == 'track':  # two passes: the boxes of every frame first, to smooth them
        boxes_per_frame = []
        for index, frame in enumerate(read_video_frames(path)):
            boxes_per_frame.append([list(b[:4]) for b in boxes_for_frame(index, frame)])
            if on_frame is not None:
                on_frame(index + 1, info['frames'], 'find faces')
        frames = _TrackFrames(restorer, context, track_video(boxes_per_frame))
    else:
        frames = _PerFrame(restorer, context, boxes_for_frame, stable_iou, reuse_change)
    encoder, _, pix_fmt, params = CODECS[codec]
    folder = osp.dirname(osp.abspath(target))
    os.makedirs(folder, exist_ok=True)
    staging = new_staging_file(target, suffix=osp.splitext(target)[1])
    audio = dict(audio_path=path, audio_codec='copy') if info['audio_codec'] else {}
    writer = imageio_ffmpeg.write_frames(
        staging, (width, height), fps=info['fps'], codec=encoder, pix_fmt_out=pix_fmt,
        macro_block_size=1, quality=None, ffmpeg_log_level='error',
        output_params=params + ['-fps_mode', 'passthrough', '-map_metadata', '-1',
                                '-metadata', f'comment={SYNTHETIC_TAG}'], **audio)
    counts = dict(frames=0, frames_with_boxes=0, boxes=0)
    used_boxes = []
    previous_in, previous_out = None, None
    changes_in, changes_out = [], []
    try:
        writer.send(None)
        for index, frame in enumerate(read_video_frames(path)):
            result, boxes, links = frames.restore(index, frame)
            for box, link in zip(boxes, links):
                if link is not None and previous_in is not None:
                    changes_in.append(box_change(frame, previous_in, box, link))
                    changes_out.append(box_change(result, previous_out, box, link))
            writer.send(np.ascontiguousarray(result))
            counts['frames'] += 1
            if on_frame is not None:
                on_frame(counts['frames'], info['frames'], 'restore')
            counts['frames_with_boxes'] += bool(boxes)
            counts['boxes'] += len(boxes)
            used_boxes.append([list(box_corners(b, height, width)) for b in boxes])
            previous_in, previous_out = frame, result
        writer.close()
        commit_staging_file(staging, target)
    except BaseException:
        writer.close()
        raise
    finally:
        if osp.exists(staging):
            os.remove(staging)
    counts.update(frames.counts)
    counts.update(boxes_per_frame=used_boxes, frames_in=info['frames'], fps=info['fps'],
                  size=[width, height], codec=codec, audio_copied=bool(info['audio_codec']),
                  temporal='whole_image' if whole_image else temporal,
                  flicker=flicker_summary(changes_in, changes_out))
    return counts


class _WholeFrames:
    """Every frame through the generator whole."""

    def __init__(self, restorer):
        self.restorer, self.counts = restorer, {}

    def restore(self, index, frame):
        height, width = frame.shape[:2]
        box = [0, 0, width, height]
        return restore_whole(frame, self.restorer), [box], [box if index else None]


class _PerFrame:
    """Each frame's boxes restored on their own; a box that barely moved keeps the previous
    frame's coordinates, and its restoration too while the mosaic in it is unchanged."""

    def __init__(self, restorer, context, boxes_for_frame, stable_iou, reuse_change):
        self.restorer, self.context, self.boxes_for_frame = restorer, context, boxes_for_frame
        self.stable_iou, self.reuse_change = stable_iou, reuse_change
        self.previous_boxes, self.previous_in, self.previous_out = [], None, None
        self.counts = dict(reused=0)

    def restore(self, index, frame):
        height, width = frame.shape[:2]
        boxes = _stabilise([list(b[:4]) for b in self.boxes_for_frame(index, frame)],
                           self.previous_boxes, self.stable_iou)
        result = restore_regions([frame], [boxes], self.restorer, context=self.context)[0]
        links = []
        for box in boxes:
            inside = box_to_slices(box, height, width)
            link = max(self.previous_boxes, key=lambda p: xywh_iou(p, box), default=None)
            links.append(link if link is not None and xywh_iou(link, box) >= 0.3 else None)
            same_box = link is not None and xywh_iou(link, box) >= 0.999
            if self.previous_in is not None and same_box:
                change = np.abs(frame[inside].astype(np.int16) - self.previous_in[inside]).mean()
                if change < self.reuse_change:
                    result[inside] = self.previous_out[inside]
                    self.counts['reused'] += 1
        self.previous_boxes, self.previous_in, self.previous_out = boxes, frame, result
        return result, boxes, links


class _TrackFrames:
    """The frames' tracked, smoothed boxes restored by :class:`.TrackStableRestorer`."""

    def __init__(self, restorer, context, tracked_frames):
        self.stable = TrackStableRestorer(restorer, context=context)
        self.tracked_frames, self.previous = tracked_frames, {}
        self.counts = self.stable.counts
        self.counts['tracks'] = len({t.track for f in tracked_frames for t in f})

    def restore(self, index, frame):
        height, width = frame.shape[:2]
        tracked = self.tracked_frames[index] if index < len(self.tracked_frames) else []
        tracked = [t for t in tracked if not is_empty(box_corners(t.box, height, width))]
        result = self.stable.restore_frame(frame, tracked)
        boxes = [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in self.stable.pasted]
        links = [self.previous.get(t.track) for t in tracked]
        self.previous = {t.track: box for t, box in zip(tracked, boxes)}
        return result, boxes, links


def box_change(image: np.ndarray, previous: np.ndarray, box: Sequence[float],
               previous_box: Sequence[float]) -> float:
    """Mean absolute change inside ``box`` from ``previous`` (its ``previous_box`` resampled
    onto ``box``, so a face that moved with its box does not count as changed)."""
    height, width = image.shape[:2]
    corners = box_corners(box, height, width)
    px, py, pw, ph = previous_box[:4]
    px1, py1, px2, py2 = box_corners([px - 2, py - 2, pw + 4, ph + 4], height, width)
    moved = warp_box(previous[py1:py2, px1:px2], (px1, py1), previous_box, box, corners)
    x1, y1, x2, y2 = corners
    return float(np.abs(image[y1:y2, x1:x2].astype(np.float32) - moved).mean())


def flicker_summary(changes_in: Sequence[float], changes_out: Sequence[float]) -> Dict[str, float]:
    """Mean absolute frame-to-frame change inside the restored boxes, output vs input."""
    if not changes_in:
        return dict(pairs=0, input=None, output=None)
    return dict(pairs=len(changes_in), input=round(float(np.mean(changes_in)), 3),
                output=round(float(np.mean(changes_out)), 3))
