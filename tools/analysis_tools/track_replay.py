"""Track restoration replayed in memory on the stability benchmark's videos: how the placement
rules were compared (docs/restore.md, "How the rules were decided"), in seconds a video.

    python tools/analysis_tools/track_replay.py --checkpoint W --images tuning:clock tuning:cell \
        [--motion subject] [--boxes exact localiser] [--placement oracle --noise 0.1]

Each video is made as ``video_stability.py`` makes it (same photo, seed and path; H.264), decoded
once, and its boxes taken (``exact``: those pixelated; ``localiser``: as tools/restore.py finds
them); then :class:`~rdid_mm.restore.track_restore.TrackStableRestorer` restores the frames
without encoding them, and the flicker is ``video_stability``'s measure on the frames in memory
(lower than the benchmark's, which adds the output's H.264; the ranking of rules is what counts).
``--placement oracle`` places every key by the path the video was made with: the ceiling of
any placement rule; ``--noise S`` adds S px of Gaussian noise to that path, per frame and axis:
how precise a placement must be. The videos are cached in ``--cache`` (decoding and the
localiser are most of the time). Decide on ``tuning``; see video_stability.py for the sets.
"""
import argparse
import os
import os.path as osp
import pickle
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling video_stability

import video_stability  # noqa: E402

PLACEMENTS = ('rules', 'oracle')


def make_video(image: str, seed: int, motion: str, frames: int = 48,
               sample: str = video_stability.DEFAULT_SAMPLE) -> dict:
    """The benchmark's pixelated video of ``image`` (``SET:NAME``) decoded: its frames, the
    faces' views, the face boxes in the photo, the exact boxes, the localiser's boxes and the
    original video's flicker (the target)."""
    from rdid_mm.restore.restore_video import read_video_frames
    from rdid_mm.restore.strided_localiser import StridedLocaliser
    photo, faces = video_stability.composite_photo(*image.split(':', 1), sample=sample, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        video = video_stability.make_videos(photo, faces, tmp, frames, motion=motion)
        pixelated = np.stack(list(read_video_frames(video['pixelated'])))
        original = video_stability.face_figures(video['original'], video)['flicker']
    localiser = StridedLocaliser()
    found = [[list(b[:4]) for b in localiser(i, f)] for i, f in enumerate(pixelated)]
    return dict(frames=pixelated, views=video['views'], faces=faces, exact=video['boxes'],
                localiser=found, original=original)


def cached_video(cache: Optional[str], image: str, seed: int, motion: str, frames: int,
                 sample: str) -> dict:
    if cache is None:
        return make_video(image, seed, motion, frames, sample)
    path = osp.join(cache, f"{image.replace(':', '_')}_{seed}_{motion}_{frames}.pkl")
    if osp.exists(path):
        with open(path, 'rb') as f:
            return pickle.load(f)
    video = make_video(image, seed, motion, frames, sample)
    os.makedirs(cache, exist_ok=True)
    with open(path + '.part', 'wb') as f:
        pickle.dump(video, f)
    os.replace(path + '.part', path)
    return video


def true_centre(face: Sequence[float], view: tuple) -> np.ndarray:
    """Where the video put the centre of ``face`` (photo box) in a frame seen through ``view``
    (pixel centres at whole numbers)."""
    x0, y0, scale = view
    return np.array([(face[0] + face[2] / 2 - x0) * scale - 0.5,
                     (face[1] + face[3] / 2 - y0) * scale - 0.5])


def true_placement(face: Sequence[float], key_view: tuple, view: tuple) -> np.ndarray:
    """3 x 3: the key frame's pixels to this frame's, as the video moved ``face``."""
    ratio = view[2] / key_view[2]
    start, end = true_centre(face, key_view), true_centre(face, view)
    return np.array([[ratio, 0.0, end[0] - ratio * start[0]],
                     [0.0, ratio, end[1] - ratio * start[1]], [0.0, 0.0, 1.0]])


def replay(restorer, video: dict, boxes: str = 'exact', placement: str = 'rules',
           noise: float = 0.0, seed: int = 0, **kwargs) -> dict:
    """Restore the video's frames along tracks in memory; ``flicker`` and the restorer's
    counts. ``placement='oracle'``: each key placed by the true path of the face whose exact
    box its key box overlaps most, plus ``noise`` px (Gaussian, per frame and axis); a key on
    no face's box (a localiser's false find) by the rules, counted as ``off_faces``."""
    from rdid_mm.restore.face_tracks import track_video
    from rdid_mm.restore.track_restore import TrackStableRestorer
    from rdid_mm.utils.boxes import xywh_iou
    tracked = track_video(video[boxes])
    rng = np.random.default_rng(seed)
    index = {'frame': -1}
    key_frames: Dict[int, int] = {}

    class Oracle(TrackStableRestorer):
        def _keys(self, frame, boxes, grey, mask):
            keys = super()._keys(frame, boxes, grey, mask)
            for key in keys:
                key_frames[id(key)] = index['frame']
            return keys

        def _placement(self, key, tracked_box, grey, mask, blocks=None, count=True):
            start = key_frames[id(key)]
            overlaps = [xywh_iou(box, key.box) for box in video['exact'][start]]
            if max(overlaps) <= 0:  # a localiser box on no face: no path to place it by
                self.counts['off_faces'] = self.counts.get('off_faces', 0) + count
                return super()._placement(key, tracked_box, grey, mask, blocks, count)
            face = int(np.argmax(overlaps))
            found = true_placement(video['faces'][face], video['views'][start],
                                   video['views'][index['frame']])
            found[:2, 2] += rng.normal(0.0, noise, 2) if noise else 0.0
            return found

    stable = (Oracle if placement == 'oracle' else TrackStableRestorer)(restorer, **kwargs)
    out = []
    for frame, frame_boxes in zip(video['frames'], tracked):
        index['frame'] += 1
        out.append(stable.restore_frame(frame, frame_boxes))
    return dict(flicker=video_stability.frame_figures(out, video)['flicker'],
                counts=dict(stable.counts))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=video_stability.DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', help='trained weights (default: random, figures '
                        'meaningless)')
    parser.add_argument('--sample', default=video_stability.DEFAULT_SAMPLE)
    parser.add_argument('--images', nargs='+', required=True,
                        help='composite photos, SET:NAME (see video_stability.py --help)')
    parser.add_argument('--seed', type=int, default=2)
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--motion', choices=video_stability.MOTIONS, default='subject')
    parser.add_argument('--boxes', nargs='+', choices=['exact', 'localiser'], default=['exact'])
    parser.add_argument('--placement', choices=PLACEMENTS, default='rules')
    parser.add_argument('--noise', type=float, default=0.0,
                        help='px of Gaussian noise added to the oracle placement')
    parser.add_argument('--cache', help='keep the decoded videos and boxes here')
    args = parser.parse_args(argv)
    if args.noise and args.placement != 'oracle':
        parser.error('--noise needs --placement oracle')
    if args.noise < 0:
        parser.error(f'--noise must be at least 0 px, got {args.noise}')
    if args.frames < 2:
        parser.error(f'--frames must be at least 2 (flicker is between frames), got {args.frames}')
    for image in args.images:
        set_name, _, name = image.partition(':')
        if name not in video_stability.COMPOSITES.get(set_name, ()):
            parser.error(f'--images {image}: not a composite photo, SET:NAME (sets: '
                         f'{sorted(video_stability.COMPOSITES)})')
    return args


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    if not osp.isdir(args.sample):
        sys.exit(f'track_replay.py: error: sample folder not found: {args.sample}')
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.restore.generator import init_model
    restorer = model_restorer(init_model(args.config, args.checkpoint, device='cpu'))
    rows = []
    print('| video | boxes | flicker | original | at most | registered / mosaic / box |')
    print('|---|---|---|---|---|---|')
    for image in args.images:
        video = cached_video(args.cache, image, args.seed, args.motion, args.frames, args.sample)
        for boxes in args.boxes:
            result = replay(restorer, video, boxes, args.placement, args.noise)
            counts = result['counts']
            rows.append(dict(image=image, boxes=boxes, flicker=result['flicker'],
                             original=video['original'], counts=counts))
            print(f"| {image} | {boxes} | {result['flicker']:.3f} | {video['original']:.3f} | "
                  f"{'yes' if result['flicker'] <= video['original'] else 'no'} | "
                  f"{counts['registered']} / {counts['mosaic_placed']} / {counts['box_placed']} |",
                  flush=True)
    for boxes in args.boxes:
        chosen = [r for r in rows if r['boxes'] == boxes]
        print(f"motion {args.motion}, {boxes} boxes, placement {args.placement}"
              f"{f' + {args.noise} px' if args.noise else ''}: flicker summed "
              f"{sum(r['flicker'] for r in chosen):.3f}, at most the original "
              f"{sum(r['flicker'] <= r['original'] for r in chosen)} of {len(chosen)}")
    return rows


if __name__ == '__main__':
    main()
