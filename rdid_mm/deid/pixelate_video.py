"""De-identifying a video (the CCTV case): every frame through the face sources, one mosaic
video per strength with the same frame count and frame rate.

Frames are decoded and encoded with the ffmpeg binary shipped in ``imageio-ffmpeg``, decoded with
``-fps_mode passthrough`` so no frame is dropped or duplicated. Mosaic videos are H.264 (CRF 18,
4:4:4 chroma so odd sizes and the pixelation's block edges survive) in ``.mp4``. ``faces.json`` is
keyed by frame index. A video is one unit of work: an interrupted run redoes it.
"""
import json
import logging
import os.path as osp
import sys
import time
from collections import defaultdict

import numpy as np
from mmengine.logging import print_log

from rdid_mm.layout import DeidLayout
from rdid_mm.utils.io import (
    atomic_link_or_copy,
    atomic_open,
    atomic_write_json,
    commit_staging_file,
    new_staging_file,
)
from rdid_mm.utils.progress import ImageProgressBar

from .face_boxes import prepare_face_boxes
from .face_sources import FaceSourceUnion
from .pixelate import pixelate_boxes
from .settings import BuildSettings
from .summary import SummaryBuilder

VIDEO_CRF = '18'


def count_frames(path: str) -> int:
    """The number of frames ffmpeg decodes from ``path``."""
    import imageio_ffmpeg
    return imageio_ffmpeg.count_frames_and_secs(path)[0]


def _process_frame(raw: bytes, index: int, width: int, height: int, union: FaceSourceUnion,
                   settings: BuildSettings, encoders: dict, stage_seconds: dict) -> dict:
    """Detect, pixelate and encode one frame; return its record."""
    start = time.perf_counter()
    frame = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    stage_seconds['decode'] += time.perf_counter() - start
    start = time.perf_counter()
    boxes, stats = prepare_face_boxes(union(frame), width, height, settings.margin)
    stage_seconds['detect'] += time.perf_counter() - start
    corners = [(b.x1, b.y1, b.x2, b.y2) for b in boxes]
    for strength, encoder in encoders.items():
        start = time.perf_counter()
        mosaic = pixelate_boxes(frame, corners, strength) if corners else frame
        stage_seconds['pixelate'] += time.perf_counter() - start
        start = time.perf_counter()
        encoder.send(np.ascontiguousarray(mosaic))
        stage_seconds['encode'] += time.perf_counter() - start
    return dict(
        file_name=str(index), image_id=index, status='done', reason=None, detail=None,
        boxes=[b.to_record() for b in boxes], detections=stats.detections,
        dropped_empty=stats.dropped_empty, dropped_outside=stats.dropped_outside,
        merged=stats.merged, audit_checked=0, missed=[], mode='RGB', orientation=1,
        smaller_than_block={str(s): sum(1 for b in boxes if min(b.width, b.height) < s)
                            for s in settings.strengths})


def deidentify_video(video: str, layout: DeidLayout, settings: BuildSettings,
                     union: FaceSourceUnion, input_info: dict, progress: bool = True) -> dict:
    """Write ``mosaic/s{S}/<stem>.mp4``, ``gt/<name>``, ``faces.json``, ``summary.json``."""
    import imageio_ffmpeg

    if not osp.isfile(video):
        raise FileNotFoundError(f'video not found: {video}')
    file_name = osp.basename(video)
    record_path = layout.record(file_name)
    if osp.isfile(record_path) and osp.isfile(layout.summary_file):
        with open(layout.summary_file, encoding='utf-8') as f:
            return json.load(f)
    try:
        reader = imageio_ffmpeg.read_frames(video, output_params=['-fps_mode', 'passthrough'])
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as err:
        raise ValueError(f'{video}: not a readable video ({err})') from None
    width, height = meta['size']
    fps = meta['fps']
    frames_in = count_frames(video)
    staged = {s: new_staging_file(layout.mosaic(file_name, s, '.mp4'), layout.tmp_dir, '.mp4')
              for s in settings.strengths}
    encoders = {}
    summary_builder = SummaryBuilder(input_info, settings.to_json(), audit_available=False)
    stage_seconds = defaultdict(float)
    bar = ImageProgressBar(frames_in, file=sys.stdout, unit='frames') if progress else None
    try:
        for strength, path in staged.items():
            encoders[strength] = imageio_ffmpeg.write_frames(
                path, (width, height), fps=fps, codec='libx264', pix_fmt_out='yuv444p',
                macro_block_size=1, quality=None, ffmpeg_log_level='error',
                output_params=['-crf', VIDEO_CRF, '-fps_mode', 'passthrough'])
            encoders[strength].send(None)
        with atomic_open(layout.faces_file, 'w', layout.tmp_dir) as faces:
            faces.write('{')
            for index, raw in enumerate(reader):
                record = _process_frame(raw, index, width, height, union, settings, encoders,
                                        stage_seconds)
                summary_builder.add(record)
                faces.write(('\n' if index == 0 else ',\n') + json.dumps(str(index)) + ': '
                            + json.dumps(record['boxes']))
                if bar is not None:
                    bar.update()
            faces.write('\n}\n')
    finally:
        reader.close()
        for encoder in encoders.values():
            encoder.close()
    if bar is not None:
        bar.finish()
    frames_out = summary_builder.status['done']
    if frames_out != frames_in:
        print_log(f'{video}: {frames_in} frames counted but {frames_out} decoded',
                  logger='current', level=logging.WARNING)
    for strength, path in staged.items():
        commit_staging_file(path, layout.mosaic(file_name, strength, '.mp4'))
    if not settings.publish:
        atomic_link_or_copy(video, layout.gt(file_name), layout.tmp_dir)

    summary = summary_builder.summary(frames_out, 0)
    summary['video'] = dict(file_name=file_name, fps=fps, size=[width, height],
                            frames_in=frames_in, frames_out=frames_out,
                            mosaics={str(s): osp.relpath(layout.mosaic(file_name, s, '.mp4'),
                                                         layout.root)
                                     for s in settings.strengths})
    atomic_write_json(layout.summary_file, summary, indent=1, staging_dir=layout.tmp_dir)
    atomic_write_json(record_path, dict(file_name=file_name, status='done'),
                      staging_dir=layout.tmp_dir)
    return dict(summary, timing=dict(stage_seconds={k: round(v, 3)
                                                    for k, v in stage_seconds.items()}))
