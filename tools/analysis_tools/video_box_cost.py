"""What the localiser's boxes cost on a video's frames, and whether cheaper settings find the same
face tracks, on the stability benchmark's videos (``video_stability.py``; no model needed).

    python tools/analysis_tools/video_box_cost.py --images tuning:coffee tuning:text --seeds 1 2
    python tools/analysis_tools/video_box_cost.py --images tuning:rocket --frames 12 \
        --scale 3.375 --pixelate-scaled --repeat 3

Settings: ``lattice`` (the localiser without its learned detector) and ``every N`` (the learned
detector on the whole frame every N-th frame, between only where the lattice disagrees:
:class:`rdid_mm.restore.strided_localiser.StridedLocaliser`; ``every 1`` is the localiser on each
frame, the reference). Per video and setting: box-finding seconds per frame (one thread is the
caller's business: ``OMP_NUM_THREADS=1``), the face tracks (:func:`~rdid_mm.restore.face_tracks.
track_video`), the share of the reference's tracked boxes that the setting's cover (same frame,
IoU >= 0.5), and the frames whose boxes equal the reference's. ``--scale`` resizes the pixelated
frames (bicubic; 0.4: mosaics of 2-3 blurred blocks), or with ``--pixelate-scaled`` the original
frames, pixelated then at their new size (strength 8: a larger video to time). Tune on
``tuning:`` and the sample photos; ``held-out:`` is for measuring once.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time
from typing import List, Sequence

import cv2
import numpy as np

from rdid_mm.utils.io import atomic_write_json

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # video_stability, localiser_cases

import video_stability  # noqa: E402


def box_finder(setting: str):
    """``(index, frame) -> [[x, y, w, h], ...]`` for a setting: ``lattice`` or ``every N``."""
    from rdid_mm.restore.localiser import locate_mosaics
    from rdid_mm.restore.strided_localiser import StridedLocaliser
    if setting == 'lattice':
        return lambda index, frame: [m.to_list()[:4] for m in locate_mosaics(frame, learned=False)]
    if setting.startswith('every '):
        return StridedLocaliser(int(setting.split()[1]))
    raise ValueError(f"a setting is 'lattice' or 'every N', got {setting!r}")


def covered(reference: Sequence[Sequence], tracked: Sequence[Sequence]) -> float:
    """The share of the reference's tracked boxes with a box of ``tracked`` on the same frame at
    IoU >= 0.5 (1.0 when the reference has none)."""
    from rdid_mm.utils.boxes import xywh_iou
    total = sum(len(f) for f in reference)
    hits = sum(any(xywh_iou(r.box, t.box) >= 0.5 for t in others)
               for boxes, others in zip(reference, tracked) for r in boxes)
    return hits / total if total else 1.0


def compare(frames: Sequence[np.ndarray], settings: Sequence[str], repeat: int = 1) -> List[dict]:
    """One row per setting (the reference: ``every 1`` if present, else the first); the seconds
    are the least of ``repeat`` runs, the settings taking turns (a shared machine's load)."""
    from rdid_mm.restore.face_tracks import track_video
    from rdid_mm.restore.mosaic_net import load_mosaic_net
    load_mosaic_net()  # loaded once, before any timing
    found = {}
    seconds = {s: float('inf') for s in settings}
    for _ in range(repeat):
        for setting in settings:
            finder = box_finder(setting)
            start = time.perf_counter()
            found[setting] = [finder(index, frame) for index, frame in enumerate(frames)]
            seconds[setting] = min(seconds[setting], (time.perf_counter() - start) / len(frames))
    rows = [dict(setting=s, seconds_per_frame=round(seconds[s], 4),
                 boxes=sum(len(b) for b in found[s])) for s in settings]
    reference = 'every 1' if 'every 1' in found else settings[0]
    tracked = {s: track_video(b) for s, b in found.items()}
    for row in rows:
        setting = row['setting']
        row.update(tracks=len({t.track for f in tracked[setting] for t in f}),
                   covered=round(covered(tracked[reference], tracked[setting]), 3),
                   covers=round(covered(tracked[setting], tracked[reference]), 3),
                   same_frames=sum(a == b for a, b in zip(found[setting], found[reference])))
    return rows


def run(image: str, seed: int, motion: str, sample: str, settings: Sequence[str],
        frames: int = 48, scale: float = 1.0, repeat: int = 1,
        pixelate_scaled: bool = False) -> dict:
    """One video's rows (see the module docstring); ``pixelate_scaled``: the original video
    scaled, then pixelated in the scaled boxes (a larger or smaller video pixelated at its own
    size), instead of the pixelated video scaled."""
    from rdid_mm.restore.restore_video import read_video_frames
    with tempfile.TemporaryDirectory() as tmp:
        if ':' in image:
            photo, faces = video_stability.composite_photo(*image.split(':', 1), sample=sample,
                                                           seed=seed)
        else:
            photo, faces = video_stability.sample_faces(sample, image, tmp)
        video = video_stability.make_videos(photo, faces, tmp, frames, motion=motion)
        decoded = list(read_video_frames(video['original' if pixelate_scaled else 'pixelated']))
    if scale != 1:
        decoded = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                   for f in decoded]
    if pixelate_scaled:
        from rdid_mm.deid.pixelate import pixelate_boxes
        decoded = [pixelate_boxes(f, [(x * scale, y * scale, (x + w) * scale, (y + h) * scale)
                                      for x, y, w, h in boxes], video_stability.STRENGTH)
                   for f, boxes in zip(decoded, video['boxes'])]
    return dict(image=image, seed=seed if ':' in image else None, motion=motion,
                size=list(decoded[0].shape[1::-1]), frames=len(decoded),
                rows=compare(decoded, settings, repeat))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="The localiser's cost on video frames and the "
                                     'tracks of cheaper settings, on the stability benchmark '
                                     'videos')
    parser.add_argument('--images', nargs='+', default=[video_stability.DEFAULT_IMAGE],
                        help='sample photos or SET:NAME composites (as video_stability --image)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[1])
    parser.add_argument('--motions', nargs='+', choices=video_stability.MOTIONS,
                        default=list(video_stability.MOTIONS))
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--every', nargs='+', type=int, default=[1, 3],
                        help='whole-frame network passes every N frames (1: every frame, the '
                        'reference)')
    parser.add_argument('--no-lattice', action='store_true', help='leave out the lattice alone')
    parser.add_argument('--scale', type=float, default=1.0, help='resize the frames (bicubic)')
    parser.add_argument('--pixelate-scaled', action='store_true',
                        help='with --scale: scale the original video and pixelate it at its new '
                        'size (strength 8), instead of scaling the pixelated video')
    parser.add_argument('--repeat', type=int, default=1,
                        help='time each setting this many times, taking turns; the least counts')
    parser.add_argument('--sample', default=video_stability.DEFAULT_SAMPLE)
    parser.add_argument('--out', help='also write the rows as json here')
    return parser.parse_args(argv)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    settings = [f'every {n}' for n in args.every] + ([] if args.no_lattice else ['lattice'])
    videos = []
    print('| video | seed | motion | size | setting | s / frame | boxes | tracks | covered | '
          'covers | same frames |\n|---|---|---|---|---|---|---|---|---|---|---|')
    for image, seed, motion in video_stability.each_video(args.images, args.seeds, args.motions):
        try:
            video = run(image, seed or 1, motion, args.sample, settings, args.frames, args.scale,
                        args.repeat, args.pixelate_scaled)
        except ValueError as err:
            sys.exit(f'video_box_cost.py: error: {err}')
        videos.append(video)
        for row in video['rows']:
            print(f"| {image} | {video['seed'] or '-'} | {motion} | "
                  f"{video['size'][0]}x{video['size'][1]} | {row['setting']} | "
                  f"{row['seconds_per_frame']:.3f} | {row['boxes']} | {row['tracks']} | "
                  f"{row['covered']:.3f} | {row['covers']:.3f} | "
                  f"{row['same_frames']}/{video['frames']} |", flush=True)
    for setting in settings:
        rows = [r for v in videos for r in v['rows'] if r['setting'] == setting]
        print(f"{setting}: {np.mean([r['seconds_per_frame'] for r in rows]):.3f} s / frame, "
              f"{sum(r['tracks'] for r in rows)} tracks, covered "
              f"{np.mean([r['covered'] for r in rows]):.3f} (mean over {len(rows)} videos)")
    if args.out:
        atomic_write_json(args.out, videos, indent=1)
    return videos


if __name__ == '__main__':
    main()
