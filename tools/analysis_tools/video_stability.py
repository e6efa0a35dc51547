"""Temporal stability of video restoration: per-frame restoration against restoration along face
tracks, on an H.264 video made here with faces that move.

    python tools/analysis_tools/video_stability.py --config C --checkpoint W [--frames 48]
    python tools/analysis_tools/video_stability.py --checkpoint W --image tuning:coffee --seed 2
    python tools/analysis_tools/benchmark_restore.py --video-stability --config C --checkpoint W

The video: a camera pans and zooms over a photo of the COCO sample (its builder face boxes, the
wholebody source), rendered at 512 x 320, 12 fps, H.264 with a sine audio track; the faces are
pixelated in each decoded frame with the builder's function at strength 8 (what the builder does
to a video). ``--motion subject`` keeps the camera still (the first view) and moves each face's
head (its box and a third of its size around it) along the path instead, over the still photo: the
faces move against their background, as people before a CCTV camera. It is restored four ways:
per frame (``--temporal frame``) and along tracks (``--temporal track``), each with the exact boxes
(those pixelated) and with the localiser's (its learned detector on the whole of every third frame
and around the faces between, as tools/restore.py; ``--network-every 1``: on every frame).

The table:
- flicker: the mean absolute change (grey levels, RGB) of each face between consecutive frames,
  measured in the face's own coordinates (each frame's box resampled back to the face's box in the
  first frame), so the camera's motion does not count; for the original and pixelated videos too.
  ``restored once, filmed``: the first frame of the track-restored video carried along the
  camera's path with the camera's resampling (bicubic) and encoded as the original was (H.264
  4:2:0): the restored faces filmed as the original faces were, placed exactly. The original's
  flicker depends on its faces' texture (finer texture changes more under resampling and the
  codec); this row is the same measure for the restored texture. It is no floor (the tracks are
  written bilinear and 4:4:4, and can score lower); the issue's target stays the original row.
- face sharpness: the mean of :func:`rdid_mm.restore.track_restore.sharpness` over the faces
  (grey, in face coordinates): track mode softens a key sharper than the frame around the face,
  and blur alone lowers flicker, so this says whether the restored faces are softer than the
  original's.
- identity: dlib ResNet distances between the restored faces of one track (every pair of its
  frames; the exact boxes), median and 95th percentile; the original video's for reference.
- format: each output's frame count, rate, size and audio packets (md5) against the input's.
``--codec ffv1`` writes the restored videos lossless (the flicker then leaves out the output's
YUV conversion and compression).
"""
import argparse
import json
import math
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling localiser_cases (composites)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'rdid_gan',
                          'rdid-gan_resnet-cbam-demo_1xb4-1500i_deid-sample.py')
DEFAULT_IMAGE = '000000040083.jpg'  # two faces in the sample
OUT_SIZE, FPS, STRENGTH = (512, 320), 12, 8
RUNS = (('frame', 'exact'), ('track', 'exact'), ('frame', 'localiser'), ('track', 'localiser'))
MOTIONS = ('camera', 'subject')


def camera_path(frames: int, photo_size: Sequence[int], faces: Sequence[Sequence[float]],
                out_size: Sequence[int] = OUT_SIZE) -> List[tuple]:
    """Per frame ``(x0, y0, scale)``: the photo point at the frame's top-left and the zoom.

    The view's centre swings across the faces and back while the zoom breathes (1.45 to 1.65),
    a smooth, non-linear motion with every face kept inside the frame.
    """
    faces = np.asarray([f[:4] for f in faces], dtype=np.float64)
    left, top = faces[:, 0].min(), faces[:, 1].min()
    right, bottom = (faces[:, 0] + faces[:, 2]).max(), (faces[:, 1] + faces[:, 3]).max()
    cx, cy = (left + right) / 2, (top + bottom) / 2
    views = []
    for index in range(frames):
        t = index / max(frames - 1, 1)
        scale = 1.55 + 0.1 * math.cos(2 * math.pi * t)
        vw, vh = out_size[0] / scale, out_size[1] / scale
        slack_x = max((vw - (right - left)) / 2 - 4, 0)
        slack_y = max((vh - (bottom - top)) / 2 - 4, 0)
        x = cx + 0.8 * slack_x * math.sin(2 * math.pi * t)
        y = cy + 0.6 * slack_y * math.sin(math.pi * t) - 0.3 * slack_y
        x0 = min(max(x - vw / 2, 0.0), photo_size[0] - vw)
        y0 = min(max(y - vh / 2, 0.0), photo_size[1] - vh)
        views.append((x0, y0, scale))
    return views


FEATHER = 0.25  # --motion subject: the head layer's edge fades out over this share of its radii
HEAD = 1 / 3  # --motion subject: the moving layer is each face box and this much of its size around


def subject_frame(photo: np.ndarray, faces: Sequence[Sequence[float]], still: tuple,
                  view: tuple, out_size: Sequence[int] = OUT_SIZE) -> np.ndarray:
    """A still camera (``still``) with each face's head seen as ``view`` shows it: the photo
    rendered both ways and the heads (``HEAD`` around each moved box) pasted onto the still one."""
    frame = render(photo, still, out_size)
    moving = render(photo, view, out_size)
    for box in faces:
        x, y, w, h = moved_box(box, view)
        # an ellipse (HEAD beyond the box on its axes) whose edge fades out over FEATHER of its
        # radii: a head has no straight seam, and a pasted rectangle's reads as a block edge
        rx, ry = (0.5 + HEAD) * w, (0.5 + HEAD) * h
        cx, cy, reach = x + w / 2, y + h / 2, 1 + FEATHER
        x1, y1 = max(int(cx - reach * rx), 0), max(int(cy - reach * ry), 0)
        x2 = min(int(math.ceil(cx + reach * rx)), out_size[0])
        y2 = min(int(math.ceil(cy + reach * ry)), out_size[1])
        yy, xx = np.mgrid[y1:y2, x1:x2] + 0.5
        radius = np.hypot((xx - cx) / rx, (yy - cy) / ry)
        alpha = np.clip((reach - radius) / FEATHER, 0.0, 1.0)[..., None]
        frame[y1:y2, x1:x2] = np.round(alpha * moving[y1:y2, x1:x2]
                                       + (1 - alpha) * frame[y1:y2, x1:x2]).astype(frame.dtype)
    return frame


def _frame_to_photo(view: tuple) -> np.ndarray:
    """3 x 3: a frame pixel seen through ``view`` to the photo pixel there (pixel centres)."""
    x0, y0, scale = view
    return np.array([[1 / scale, 0, x0 + 0.5 / scale - 0.5],
                     [0, 1 / scale, y0 + 0.5 / scale - 0.5], [0, 0, 1]])


def render(photo: np.ndarray, view: tuple, out_size: Sequence[int] = OUT_SIZE) -> np.ndarray:
    """The frame the camera sees (bicubic; pixel centres)."""
    return cv2.warpAffine(photo, _frame_to_photo(view)[:2], tuple(out_size),
                          flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def moved_box(box: Sequence[float], view: tuple) -> List[float]:
    x0, y0, scale = view
    return [(box[0] - x0) * scale, (box[1] - y0) * scale, box[2] * scale, box[3] * scale]


def pixel_box(box: Sequence[float]) -> List[int]:
    """The whole-pixel box the builder pixelates (rounded corners), as ``[x, y, w, h]``."""
    x1, y1 = round(box[0]), round(box[1])
    return [x1, y1, round(box[0] + box[2]) - x1, round(box[1] + box[3]) - y1]


def _ffmpeg() -> str:
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def _write(path: str, frames, size, fps: float, audio: Optional[str]) -> None:
    import imageio_ffmpeg
    extra = dict(audio_path=audio, audio_codec='aac') if audio else {}
    writer = imageio_ffmpeg.write_frames(path, tuple(size), fps=fps, codec='libx264',
                                         pix_fmt_out='yuv420p', macro_block_size=1, quality=None,
                                         ffmpeg_log_level='error',
                                         output_params=['-crf', '18', '-shortest'], **extra)
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def make_videos(photo: np.ndarray, faces: Sequence[Sequence[float]], folder: str,
                frames: int = 48, fps: int = FPS, strength: int = STRENGTH,
                motion: str = 'camera') -> dict:
    """``original.mp4`` (the camera over ``photo``, or the heads moving before a still camera,
    with audio) and ``pixelated.mp4`` (its decoded frames pixelated in the moved face boxes, the
    audio copied); the faces' views and boxes."""
    if motion not in MOTIONS:
        raise ValueError(f'motion must be one of {MOTIONS}, got {motion!r}')
    from rdid_mm.deid.pixelate import pixelate_boxes
    from rdid_mm.restore.restore_video import read_video_frames
    height, width = photo.shape[:2]
    views = camera_path(frames, (width, height), faces)
    audio = osp.join(folder, 'sine.wav')
    subprocess.run([_ffmpeg(), '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
                    f'sine=frequency=440:duration={frames / fps}', audio], check=True)
    original = osp.join(folder, 'original.mp4')
    shown = ((render(photo, v) for v in views) if motion == 'camera'
             else (subject_frame(photo, faces, views[0], v) for v in views))
    _write(original, shown, OUT_SIZE, fps, audio)
    boxes = [[pixel_box(moved_box(f, v)) for f in faces] for v in views]
    pixelated = osp.join(folder, 'pixelated.mp4')
    decoded = read_video_frames(original)
    _write(pixelated, (pixelate_boxes(frame, [(x, y, x + w, y + h) for x, y, w, h in b], strength)
                       for frame, b in zip(decoded, boxes)), OUT_SIZE, fps, audio)
    return dict(original=original, pixelated=pixelated, views=views, boxes=boxes, faces=faces)


def face_patches(frame: np.ndarray, faces: Sequence[Sequence[float]], view: tuple,
                 first: tuple) -> List[np.ndarray]:
    """Each face of ``frame`` resampled onto its box in the first frame's coordinates."""
    x0, y0, scale = view
    first_scale = first[2]
    patches = []
    for fx, fy, fw, fh in (f[:4] for f in faces):
        size = (round(fw * first_scale), round(fh * first_scale))
        ratio = scale / first_scale
        matrix = np.array([[ratio, 0, (fx + 0.5 / first_scale - x0) * scale - 0.5],
                           [0, ratio, (fy + 0.5 / first_scale - y0) * scale - 0.5]])
        patches.append(cv2.warpAffine(frame, matrix, size,
                                      flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                      borderMode=cv2.BORDER_REPLICATE).astype(np.float32))
    return patches


def face_figures(path: str, video: dict) -> dict:
    """One pass over the video, in face coordinates: ``flicker``, the mean absolute change of the
    faces between consecutive frames, and ``sharpness``, their mean
    :func:`rdid_mm.restore.track_restore.sharpness` (grey): a restoration can always flicker less
    by blurring, so the table shows how sharp each video's faces are beside the original's."""
    from rdid_mm.restore.restore_video import read_video_frames
    return frame_figures(read_video_frames(path), video)


def frame_figures(frames, video: dict) -> dict:
    """:func:`face_figures` of decoded frames (RGB, in order; ``track_replay.py``'s in memory)."""
    from rdid_mm.restore.track_restore import sharpness
    changes, values, previous = [], [], None
    for frame, view in zip(frames, video['views']):
        patches = face_patches(frame, video['faces'], view, video['views'][0])
        if previous is not None:
            changes += [float(np.abs(a - b).mean()) for a, b in zip(patches, previous)]
        values += [sharpness(cv2.cvtColor(p, cv2.COLOR_RGB2GRAY)) for p in patches]
        previous = patches
    return dict(flicker=round(float(np.mean(changes)), 3),
                sharpness=round(float(np.mean(values)), 3))


def flicker(path: str, video: dict) -> float:
    """Mean absolute change of the faces between consecutive frames (:func:`face_figures`)."""
    return face_figures(path, video)['flicker']


def identity(path: str, video: dict, embedder) -> dict:
    """dlib distances between the faces of one track over every pair of frames."""
    from rdid_mm.restore.restore_video import read_video_frames
    vectors = [[] for _ in video['faces']]
    for frame, boxes in zip(read_video_frames(path), video['boxes']):
        for track, box in enumerate(boxes):
            vectors[track].append(embedder.embed(frame, box))
    distances = []
    for track in vectors:
        track = np.asarray(track)
        for i in range(len(track) - 1):
            distances += embedder.distance(track[i + 1:], track[i]).tolist()
    return dict(median=round(float(np.median(distances)), 3),
                p95=round(float(np.percentile(distances, 95)), 3), pairs=len(distances))


def audio_md5(path: str) -> Optional[str]:
    """The md5 of the audio packets (copied streams give the same)."""
    done = subprocess.run([_ffmpeg(), '-loglevel', 'error', '-i', path, '-map', '0:a', '-c',
                           'copy', '-f', 'md5', '-'], capture_output=True, text=True)
    return done.stdout.strip() or None


def video_format(path: str) -> dict:
    from rdid_mm.restore.restore_video import video_info
    info = video_info(path)
    return dict(frames=info['frames'], fps=info['fps'], size=list(info['size']),
                audio=audio_md5(path))


def refilm(frame: np.ndarray, first: tuple, view: tuple) -> np.ndarray:
    """``frame``, seen through the view ``first``, moved to where ``view`` shows the photo
    (bicubic, pixel centres: the camera's own resampling of :func:`render`)."""
    to_first = np.linalg.inv(_frame_to_photo(first)) @ _frame_to_photo(view)
    return cv2.warpAffine(frame, to_first[:2], tuple(frame.shape[1::-1]),
                          flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def film_restored_once(restored: str, video: dict, path: str) -> str:
    """``path``: the first frame of ``restored`` carried along the camera's path (every frame
    :func:`refilm`), encoded as the original (H.264 4:2:0, CRF 18): the restored faces filmed
    as the original's were, restored once and placed exactly."""
    from rdid_mm.restore.restore_video import read_video_frames
    first = next(iter(read_video_frames(restored)))
    views = video['views']
    _write(path, (refilm(first, views[0], v) for v in views), OUT_SIZE, FPS, None)
    return path


def measure(restorer, photo: np.ndarray, faces: Sequence[Sequence[float]], folder: str,
            frames: int = 48, embedder=None, runs: Sequence[tuple] = RUNS,
            codec: str = 'h264', motion: str = 'camera', progress: bool = False,
            network_every: Optional[int] = None) -> dict:
    """Make the videos, restore them each way of ``runs`` (into ``codec``) and measure; returns
    the table's rows (``embedder=None``: no identity figures; ``network_every``: the localiser's
    learned detector on the whole of every N-th frame, default ``restore_video``'s)."""
    from rdid_mm.restore.restore_video import CODECS, restore_video
    from rdid_mm.restore.strided_localiser import StridedLocaliser
    video = make_videos(photo, faces, folder, frames, motion=motion)
    rows: Dict[str, dict] = {}
    source_format = video_format(video['pixelated'])
    for name in ('original', 'pixelated'):
        rows[name] = face_figures(video[name], video)
    if embedder is not None:
        rows['original'].update(identity=identity(video['original'], video, embedder))
    for number, (temporal, boxes) in enumerate(runs, 1):
        if progress:
            how = 'along tracks' if temporal == 'track' else 'per frame'
            print(f'[{number}/{len(runs)}] restoring {frames} frames {how}, {boxes} boxes ...',
                  file=sys.stderr, flush=True)
        target = osp.join(folder, f'{temporal}_{boxes}{CODECS[codec][1]}')
        exact = ((lambda index, frame: video['boxes'][index]) if boxes == 'exact' else
                 None if network_every is None else StridedLocaliser(network_every))
        start = time.perf_counter()
        result = restore_video(video['pixelated'], target, restorer, codec=codec,
                               boxes_for_frame=exact, temporal=temporal)
        row = dict(face_figures(target, video),
                   seconds=round(time.perf_counter() - start, 2),
                   format_unchanged=video_format(target) == source_format,
                   boxes=result['boxes'],
                   **{k: result[k] for k in ('tracks', 'keys', 'refreshes', 'cuts')
                      if k in result})
        if embedder is not None:
            row['identity'] = identity(target, video, embedder)
        rows[f'{temporal} {boxes}'] = row
        if (temporal, boxes) == ('track', 'exact'):  # these faces filmed as the original
            filmed = film_restored_once(target, video, osp.join(folder, 'restored_once.mp4'))
            rows['restored once, filmed'] = face_figures(filmed, video)
    return dict(rows=rows, video=dict(frames=frames, fps=FPS, size=list(OUT_SIZE), codec=codec,
                                      motion=motion,
                                      faces=len(faces), strength=STRENGTH,
                                      audio=source_format['audio'] is not None,
                                      face_sizes=[round(math.sqrt(w * h)) for _, _, w, h in
                                                  video['boxes'][0]]))


def table(result: dict) -> str:
    """The rows as a Markdown table."""
    lines = ['| video | flicker in face boxes | face sharpness | identity median | identity p95 | '
             'format unchanged | tracks / keys / refreshes / cuts |',
             '|---|---|---|---|---|---|---|']
    for name, row in result['rows'].items():
        ident = row.get('identity') or {}
        counts = ' / '.join(str(row[k]) for k in ('tracks', 'keys', 'refreshes', 'cuts')
                            if k in row)
        lines.append(f"| {name} | {row['flicker']:.2f} | {row['sharpness']:.2f} | "
                     f"{ident.get('median', '-')} | "
                     f"{ident.get('p95', '-')} | {row.get('format_unchanged', '-')} | "
                     f"{counts or '-'} |")
    return '\n'.join(lines)


def sample_faces(sample: str, image: str, folder: str) -> tuple:
    """The photo and its builder face boxes (wholebody source) from the COCO sample."""
    from mmengine.logging import MMLogger

    from rdid_mm.deid import build_deid_dataset
    from rdid_mm.utils.io import read_image
    deid = osp.join(folder, 'deid')
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('ERROR')  # the builder's face audit of the sample is not this table's business
    try:
        build_deid_dataset(
            ann_file=osp.join(sample, 'annotations', 'test_coco.json'),
            img_dir=osp.join(sample, 'val2017'), out_dir=deid, strengths=(STRENGTH, ),
            face_sources=('wholebody', ),
            wholebody_ann=osp.join(sample, 'annotations', 'test_coco_wholebody.json'),
            progress=False)
    finally:
        logger.setLevel(level)
    with open(osp.join(deid, 'faces.json')) as f:
        faces = json.load(f)
    if not faces.get(image):
        raise ValueError(f'{image}: no face boxes in the sample (have {sorted(faces)})')
    return read_image(osp.join(sample, 'val2017', image)).rgb, [b[:4] for b in faces[image]]


#: composite photos (``--image SET:NAME``): the localiser's images of that set
#: (:mod:`localiser_cases`) with two of that set's faces pasted; tune the video work on
#: ``tuning``, quote ``held-out`` (its evaluation set: other images, other faces). ``text``
#: (172 px high, black on white) is smaller than the view: the camera stops at its edges, the
#: path kinks and the high-contrast mosaics are re-cut (the tuning case for key renewals). The
#: tuning photos after ``text`` are scikit-image's other bundled photos that neither the localiser
#: nor the held-out set uses (no ``cat``: it is chelsea), for the renewal rule's wider tuning
#: replay: high-contrast small things on a dark ground (hubble_deep_field, immunohistochemistry,
#: cell), hard edges (checkerboard, clock, logo, colorwheel) and fine texture (moon, retina).
#: ``fresh`` is a second held-out set, because ``held-out`` was looked at while the video work was
#: tuned (coins' renewals, chelsea's sharp keys): the localiser's other evaluation photos (grass,
#: gravel, page) and the last bundled scikit-image images no set uses (motorcycle_right, the
#: other view of held-out's motorcycle_left; horse, a black-and-white silhouette), with the
#: evaluation faces. Measure it once and take no decision on it.
COMPOSITES = {'tuning': ('coffee', 'rocket', 'camera', 'brick', 'text', 'clock', 'moon',
                         'checkerboard', 'hubble_deep_field', 'immunohistochemistry',
                         'colorwheel', 'cell', 'retina', 'logo'),
              'held-out': ('astronaut', 'chelsea', 'motorcycle_left', 'coins', 'grace_hopper'),
              'fresh': ('grass', 'gravel', 'page', 'motorcycle_right', 'horse')}
_FACE_SETS = {'tuning': 'tuning', 'held-out': 'evaluation', 'fresh': 'evaluation'}


def composite_photo(set_name: str, name: str, sample: str = DEFAULT_SAMPLE, count: int = 2,
                    seed: int = 1) -> tuple:
    """A photo and its face boxes: the localiser's image ``name`` of ``set_name`` with
    ``count`` of that set's faces (LFW faces of its parity; the sample's crops for ``tuning``,
    the demo portraits' for ``held-out`` and ``fresh``) pasted side by side near the middle,
    34-46 px wide, so that the camera keeps them in view. ``held-out`` and ``fresh`` share no
    image with each other, the sample photos or ``tuning``, and no face with ``tuning``."""
    if name not in COMPOSITES.get(set_name, ()):
        raise ValueError(f'{set_name} photo must be one of {COMPOSITES.get(set_name)} '
                         f'(sets: {sorted(COMPOSITES)}), got {name!r}')
    import localiser_cases  # a sibling tool (on sys.path: see the imports)
    source = 'matplotlib' if name == 'grace_hopper' else 'skimage'
    photo = localiser_cases.load_image(f'{source}:{name}', sample)
    pool = localiser_cases.face_sources(_FACE_SETS[set_name], sample)
    rng = np.random.default_rng([seed, COMPOSITES[set_name].index(name)])
    sizes = [(int(s), int(round(s * rng.uniform(1.05, 1.25)))) for s in rng.integers(34, 47, count)]
    gaps = rng.integers(10, 40, count - 1).tolist() + [0]
    x = photo.shape[1] // 2 - (sum(w for w, _ in sizes) + sum(gaps)) // 2
    faces = []
    for (w, h), gap in zip(sizes, gaps):
        y = photo.shape[0] // 2 - h // 2 + int(rng.integers(-12, 13))
        localiser_cases.paste_face(photo, localiser_cases.pick_face(rng, pool, w, h), x, y)
        faces.append([x, y, w, h])
        x += w + gap
    return photo, faces


def each_video(images: Sequence[str], seeds: Sequence[int], motions: Sequence[str]):
    """``(image, seed, motion)`` of every video a tool over many videos makes: each seed of a
    composite (``SET:NAME``), one video of a sample photo (``seed`` ``None``: it has none)."""
    for image in images:
        for seed in seeds if ':' in image else [None]:
            for motion in motions:
                yield image, seed, motion


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Flicker and identity consistency of video '
                                     'restoration, per frame against along face tracks')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', help='trained weights (default: random, figures '
                        'meaningless)')
    parser.add_argument('--sample', default=DEFAULT_SAMPLE, help='the COCO sample folder')
    parser.add_argument('--image', default=DEFAULT_IMAGE,
                        help='the sample photo to film, or SET:NAME, a composite photo: '
                        + '; '.join(f'{k}: {", ".join(v)}' for k, v in COMPOSITES.items())
                        + ' (tune on tuning, quote held-out and fresh)')
    parser.add_argument('--seed', type=int, default=1,
                        help='a composite photo (SET:NAME): which faces, sizes and places '
                        '(seeds are independent draws; the sample photos ignore it)')
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--codec', choices=['h264', 'ffv1'], default='h264',
                        help="the restored videos' codec (the input is always H.264)")
    parser.add_argument('--motion', choices=MOTIONS, default='camera',
                        help='camera: a camera swinging over the photo; subject: a still camera '
                        'and the heads moving over the photo')
    parser.add_argument('--runs', nargs='+', choices=[f'{t}-{b}' for t, b in RUNS],
                        default=[f'{t}-{b}' for t, b in RUNS],
                        help='the restorations to measure (default: all four)')
    parser.add_argument('--network-every', type=int,
                        help="the localiser's learned detector on the whole of every N-th frame "
                        '(default: as tools/restore.py; 1: every frame)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-identity', action='store_true', help='skip the dlib figures')
    parser.add_argument('--out', help='also write the results json here')
    args = parser.parse_args(argv)
    if args.network_every is not None and args.network_every < 1:
        parser.error(f'--network-every must be at least 1 (every frame), got {args.network_every}')
    return args


def main(argv=None):
    args = parse_args(argv)
    if not osp.isdir(args.sample):
        sys.exit(f'video_stability.py: error: sample folder not found: {args.sample}')
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.privacy.embedders import build_embedder
    from rdid_mm.restore.generator import init_model
    with tempfile.TemporaryDirectory() as tmp:
        try:  # the photo first: a wrong --image ends before the model loads
            if ':' in args.image:
                photo, faces = composite_photo(*args.image.split(':', 1), sample=args.sample,
                                               seed=args.seed)
            else:
                photo, faces = sample_faces(args.sample, args.image, tmp)
        except ValueError as err:
            sys.exit(f'video_stability.py: error: --image {args.image}: {err}')
        restorer = model_restorer(init_model(args.config, args.checkpoint, device=args.device))
        embedder = None if args.no_identity else build_embedder('dlib')
        runs = [tuple(r.split('-')) for r in args.runs]
        result = measure(restorer, photo, faces, tmp, args.frames, embedder, runs, args.codec,
                         motion=args.motion, progress=True, network_every=args.network_every)
    result.update(config=osp.relpath(args.config, REPO) if args.config.startswith(REPO)
                  else args.config, checkpoint=args.checkpoint, image=args.image,
                  seed=args.seed if ':' in args.image else None,
                  network_every=args.network_every)
    print(json.dumps(dict(result['video'], image=args.image, seed=result['seed'])))
    print(table(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
