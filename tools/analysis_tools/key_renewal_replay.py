"""Replay track mode's key renewal decision on the stability benchmark's videos, without a model.

    python tools/analysis_tools/key_renewal_replay.py --images tuning:text tuning:coffee --seeds 1 2
    python tools/analysis_tools/key_renewal_replay.py --images tuning:rocket --swap-at 24

Whether a track's key is renewed (a refresh or a cut) depends on the mosaic under its boxes, not on
the weights: the decision of :class:`rdid_mm.restore.track_restore.TrackStableRestorer` is run as
it is, on the videos of ``video_stability.py`` (the same composites, seeds and motions), with a
restorer that hands its crops back. Per video: keys, refreshes and cuts, and the drift (the largest
:func:`~rdid_mm.restore.track_restore.signature_change` of a face from its key on a frame that
kept it: how near an unchanged face came to the renewal threshold). ``--swap-at N`` pastes
another face of the same set over the first face from frame N on (composites only): the change a
renewal must catch. Tune renewal rules on ``tuning:`` and the sample photos; ``held-out:`` is for
measuring once.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from typing import List, Optional, Sequence

import numpy as np

from rdid_mm.utils.io import atomic_write_json

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # video_stability, localiser_cases

import video_stability  # noqa: E402


def hand_back(crops):
    """A restorer that restores nothing: the decision does not depend on the faces drawn."""
    return list(crops)


def replay(pixelated: str, boxes: Sequence[Sequence], **kwargs) -> dict:
    """Run the renewal decision over the video ``pixelated`` with per-frame ``boxes`` (or
    ``None``: the localiser's); ``kwargs`` go to :class:`TrackStableRestorer`."""
    from rdid_mm.restore.face_tracks import track_video
    from rdid_mm.restore.localiser import locate_mosaics
    from rdid_mm.restore.restore_video import read_video_frames
    from rdid_mm.restore.track_restore import TrackStableRestorer, signature_change, signatures
    frames = list(read_video_frames(pixelated))
    if boxes is None:
        boxes = [[m.to_list()[:4] for m in locate_mosaics(f)] for f in frames]
    stable = TrackStableRestorer(hand_back, registration=False, match_sharpness=False,
                                 mosaic_placement=False, **kwargs)
    drift, renewed_at = 0.0, []
    tracked_frames = track_video(boxes)
    for index, (frame, tracked) in enumerate(zip(frames, tracked_frames)):
        before = stable.counts['refreshes'] + stable.counts['cuts']
        stable.restore_frame(frame, tracked)
        if stable.counts['refreshes'] + stable.counts['cuts'] > before:
            renewed_at.append(index)
        for box in tracked:
            state = stable.tracks.get(box.track)
            if state is not None and index not in renewed_at:
                drift = max(drift, signature_change(signatures(frame, box, any_distance=True),
                                                    state.key.signature))
    counts = {k: stable.counts[k] for k in ('keys', 'refreshes', 'cuts')}
    return dict(counts, drift=round(drift, 2), renewed_at=renewed_at,
                tracks=len({b.track for f in tracked_frames for b in f}))


def swapped_photo(image: str, photo: np.ndarray, faces: Sequence, sample: str,
                  seed: int) -> np.ndarray:
    """``photo`` with another face of the composite's set pasted over its first face."""
    import localiser_cases
    set_name = image.split(':', 1)[0]
    pool = localiser_cases.face_sources(video_stability._FACE_SETS[set_name], sample)
    rng = np.random.default_rng([seed, 1000])
    x, y, w, h = (int(v) for v in faces[0][:4])
    swapped = photo.copy()
    localiser_cases.paste_face(swapped, localiser_cases.pick_face(rng, pool, w, h), x, y)
    return swapped


def spliced(first: str, second: str, at: int, target: str) -> str:
    """``target``: the frames of ``first`` before ``at``, then those of ``second`` (lossless)."""
    import imageio_ffmpeg

    from rdid_mm.restore.restore_video import read_video_frames
    size = video_stability.OUT_SIZE
    writer = imageio_ffmpeg.write_frames(target, size, fps=video_stability.FPS, codec='ffv1',
                                         pix_fmt_out='bgr0', macro_block_size=1,
                                         ffmpeg_log_level='error')
    writer.send(None)
    for index, (a, b) in enumerate(zip(read_video_frames(first), read_video_frames(second))):
        writer.send(np.ascontiguousarray(a if index < at else b))
    writer.close()
    return target


def run(image: str, seed: int, motion: str, sample: str, frames: int = 48,
        localiser: bool = False, swap_at: Optional[int] = None) -> dict:
    """One video's replay (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        if ':' in image:
            photo, faces = video_stability.composite_photo(*image.split(':', 1), sample=sample,
                                                           seed=seed)
        else:
            photo, faces = video_stability.sample_faces(sample, image, tmp)
        video = video_stability.make_videos(photo, faces, tmp, frames, motion=motion)
        pixelated = video['pixelated']
        if swap_at is not None:
            if ':' not in image:
                raise ValueError(f'--swap-at needs a composite photo (SET:NAME), got {image!r}')
            other = osp.join(tmp, 'swapped')
            os.makedirs(other)
            swapped = video_stability.make_videos(
                swapped_photo(image, photo, faces, sample, seed), faces, other, frames,
                motion=motion)
            pixelated = spliced(pixelated, swapped['pixelated'], swap_at,
                                osp.join(tmp, 'spliced.mkv'))
        result = replay(pixelated, None if localiser else video['boxes'])
    return dict(image=image, seed=seed if ':' in image else None, motion=motion,
                boxes='localiser' if localiser else 'exact', swap_at=swap_at, **result)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Replay the key renewal decision of track-mode '
                                     'video restoration on the stability benchmark videos')
    parser.add_argument('--images', nargs='+', default=[video_stability.DEFAULT_IMAGE],
                        help='sample photos or SET:NAME composites (as video_stability --image)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[1])
    parser.add_argument('--motions', nargs='+', choices=video_stability.MOTIONS,
                        default=list(video_stability.MOTIONS))
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--localiser', action='store_true', help="the localiser's boxes")
    parser.add_argument('--swap-at', type=int, help='another face over the first from this frame')
    parser.add_argument('--sample', default=video_stability.DEFAULT_SAMPLE)
    parser.add_argument('--out', help='also write the rows as json here')
    return parser.parse_args(argv)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    rows = []
    print('| video | seed | motion | boxes | tracks | keys | refreshes | cuts | drift | renewed at '
          '|\n|---|---|---|---|---|---|---|---|---|---|')
    for image, seed, motion in video_stability.each_video(args.images, args.seeds, args.motions):
        try:
            row = run(image, seed or 1, motion, args.sample, args.frames, args.localiser,
                      args.swap_at)
        except ValueError as err:
            sys.exit(f'key_renewal_replay.py: error: {err}')
        rows.append(row)
        print(f"| {image} | {row['seed'] or '-'} | {motion} | {row['boxes']} | "
              f"{row['tracks']} | {row['keys']} | {row['refreshes']} | {row['cuts']} | "
              f"{row['drift']:.1f} | {row['renewed_at'] or '-'} |", flush=True)
    renewing = sum(bool(r['refreshes'] or r['cuts']) for r in rows)
    print(f'{len(rows)} videos: {renewing} renewed a key; largest drift kept '
          f'{max(r["drift"] for r in rows):.1f}')
    if args.out:
        atomic_write_json(args.out, rows, indent=1)
    return rows


if __name__ == '__main__':
    main()
