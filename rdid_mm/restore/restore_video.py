"""Restoring a video: every frame through region (or whole-image) restoration, back to a video
with the same frame count, frame rate and size, the audio stream copied.

Codecs: ``h264`` (libx264, CRF 18, 4:4:4 chroma, ``.mp4``) or ``ffv1`` (lossless, ``.mkv``): with
FFV1 the pixels outside the boxes equal the decoded input frames exactly. The input's container
metadata is dropped (``-map_metadata -1``) and replaced by the synthetic-restoration comment.

Temporal consistency: a box that moved less than ``stable_iou`` from the previous frame's keeps
the previous coordinates (no jitter of the restored area), and when the mosaic inside it is
unchanged (mean absolute change below ``reuse_change`` grey levels: codec noise) the previous
restoration is reused, so a still mosaic gives a still face. :func:`flicker` measures the mean
absolute change of each restored box between frames against the input's.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from rdid_mm.models.region_restore import box_corners, restore_regions
from rdid_mm.utils.boxes import box_to_slices, xywh_iou
from rdid_mm.utils.io import commit_staging_file, new_staging_file

from .localiser import locate_mosaics
from .media import SYNTHETIC_TAG
from .regions import restore_whole

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


def restore_video(path: str, target: str, restorer, codec: str = 'h264',
                  boxes_for_frame: Optional[Callable[[int, np.ndarray], Sequence]] = None,
                  whole_image: bool = False, stable_iou: float = 0.8,
                  reuse_change: float = 1.5,
                  on_frame: Optional[Callable[[int, int], None]] = None) -> dict:
    """Restore ``path`` into ``target`` (written atomically); returns counts and the flicker.

    ``boxes_for_frame(index, frame)`` gives a frame's boxes (default: the localiser);
    ``on_frame(frames done, frames counted)`` follows a long video's progress.
    """
    import imageio_ffmpeg
    if codec not in CODECS:
        raise ValueError(f'codec must be one of {sorted(CODECS)}, got {codec!r}')
    info = video_info(path)
    width, height = info['size']
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
    boxes_for_frame = boxes_for_frame or (
        lambda i, f: [m.to_list() for m in locate_mosaics(f)])
    counts = dict(frames=0, frames_with_boxes=0, boxes=0, reused=0)
    used_boxes = []
    previous_boxes, previous_in, previous_out = [], None, None
    changes_in, changes_out = [], []
    try:
        writer.send(None)
        for index, frame in enumerate(read_video_frames(path)):
            if whole_image:
                boxes = [[0, 0, width, height]]
                result = restore_whole(frame, restorer)
            else:
                boxes = _stabilise([list(b[:4]) for b in boxes_for_frame(index, frame)],
                                   previous_boxes, stable_iou)
                result = restore_regions([frame], [boxes], restorer)[0]
                for box in boxes:
                    inside = box_to_slices(box, height, width)
                    same_box = any(xywh_iou(p, box) >= 0.999 for p in previous_boxes)
                    if previous_in is not None and same_box:
                        change = np.abs(frame[inside].astype(np.int16)
                                        - previous_in[inside]).mean()
                        if change < reuse_change:
                            result[inside] = previous_out[inside]
                            counts['reused'] += 1
                        changes_in.append(float(change))
                        changes_out.append(float(np.abs(result[inside].astype(np.int16)
                                                        - previous_out[inside]).mean()))
            writer.send(np.ascontiguousarray(result))
            counts['frames'] += 1
            if on_frame is not None:
                on_frame(counts['frames'], info['frames'])
            counts['frames_with_boxes'] += bool(boxes)
            counts['boxes'] += len(boxes)
            used_boxes.append([list(box_corners(b, height, width)) for b in boxes])
            previous_boxes, previous_in, previous_out = boxes, frame, result
        writer.close()
        commit_staging_file(staging, target)
    except BaseException:
        writer.close()
        raise
    finally:
        if osp.exists(staging):
            os.remove(staging)
    counts.update(boxes_per_frame=used_boxes, frames_in=info['frames'], fps=info['fps'],
                  size=[width, height], codec=codec, audio_copied=bool(info['audio_codec']),
                  flicker=flicker_summary(changes_in, changes_out))
    return counts


def flicker_summary(changes_in: Sequence[float], changes_out: Sequence[float]) -> Dict[str, float]:
    """Mean absolute frame-to-frame change inside the restored boxes, output vs input."""
    if not changes_in:
        return dict(pairs=0, input=None, output=None)
    return dict(pairs=len(changes_in), input=round(float(np.mean(changes_in)), 3),
                output=round(float(np.mean(changes_out)), 3))
