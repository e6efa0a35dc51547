"""Benchmark the restore path: localiser figures, and restore speed and memory.

    python tools/analysis_tools/benchmark_restore.py --localiser   # recall, precision, block size
    python tools/analysis_tools/benchmark_restore.py --speed [--config C] [--checkpoint W]
    python tools/analysis_tools/benchmark_restore.py --video-stability --config C --checkpoint W
    python tools/analysis_tools/benchmark_restore.py --throughput   # whole / region / batched

Localiser: the builder's output of the COCO sample (strengths 4-16, PNG and JPEG 90/75/60),
images pixelated by the deface CLI, per-frame recall on an H.264 video made by the builder, and the
per-case table of the wider evaluation set (``localiser_cases.py``; ``--case-sets``).
Speed: region vs whole-image mode on the sample's builder mosaics (COCO sizes), video frames per
second, and an 8000x6000 image; each mode runs in its own process so its peak memory is its own.
Video stability: the tables of video_stability.py (flicker, identity consistency along tracks),
for a moving camera and for a still one (``--motion subject``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import cv2
import numpy as np

from rdid_mm.deid import build_deid_dataset
from rdid_mm.deid.pixelate import pixelate_boxes
from rdid_mm.models.region_restore import restore_regions
from rdid_mm.models.restorers import model_restorer
from rdid_mm.restore.generator import init_model
from rdid_mm.restore.localiser import locate_mosaics
from rdid_mm.restore.regions import restore_whole
from rdid_mm.restore.restore_video import read_video_frames, restore_video

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling ground-truth module
import localiser_cases  # noqa: E402
from mosaic_reference import (  # noqa: E402
    builder_block_size,
    deface_rectangles,
    score_detections,
    union_of_overlapping,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'rdid_gan_coco.py')
MODES = ('region', 'whole', 'video', 'large_region', 'large_whole')
BUILDER_STRENGTHS = (4, 6, 8, 12, 16)
JPEG_QUALITIES = (None, 90, 75, 60)


def _rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION),
                        cv2.COLOR_BGR2RGB)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _located(image) -> list:
    return [m.to_list() for m in locate_mosaics(image)]


def builder_figures(deid_dir: str) -> Dict[str, dict]:
    """Localiser figures per JPEG quality on a builder output (its mosaics at 8/16 and copies of
    its ``gt/`` at the other strengths, pixelated with the builder's function)."""
    with open(osp.join(deid_dir, 'faces.json')) as f:
        faces = json.load(f)
    cases = {q: [] for q in JPEG_QUALITIES}
    for file_name, boxes in sorted(faces.items()):
        stem = osp.splitext(file_name)[0]
        original = _rgb(osp.join(deid_dir, 'gt', file_name))
        for strength in BUILDER_STRENGTHS:
            built = osp.join(deid_dir, 'mosaic', f's{strength}', stem + '.png')
            mosaic = _rgb(built) if osp.isfile(built) else pixelate_boxes(
                original, [(x, y, x + w, y + h) for x, y, w, h, *_ in boxes], strength)
            targets = [(x, y, w, h, builder_block_size(w, h, strength))
                       for x, y, w, h, *_ in boxes]
            for q in JPEG_QUALITIES:
                image = mosaic if q is None else _jpeg(mosaic, q)
                cases[q].append(dict(name=f'{stem} s{strength} q{q}', targets=targets,
                                     found=_located(image)))
    return {f'jpeg {q}' if q else 'png': _public(score_detections(c)) for q, c in cases.items()}


def deface_figures(img_dir: str, mosaic_sizes=(20, 10), scales=(1, 2)) -> Dict[str, dict]:
    """Localiser figures on images pixelated by the ``deface`` CLI (PNG copies of ``img_dir`` at
    ``scales``; ground truth: the rectangles deface draws)."""
    from deface.centerface import CenterFace
    exe = osp.join(osp.dirname(sys.executable), 'deface')
    centerface = CenterFace(in_shape=None, backend='auto')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in mosaic_sizes:
            folder = osp.join(tmp, f'm{size}')
            os.makedirs(folder)
            rects = {}
            for path in sorted(glob.glob(osp.join(img_dir, '*.jpg'))):
                photo = _rgb(path)
                for scale in scales:
                    image = photo if scale == 1 else cv2.resize(
                        photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                    stem = f'{osp.splitext(osp.basename(path))[0]}_x{scale}'
                    cv2.imwrite(osp.join(folder, stem + '.png'),
                                cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                    rects[stem] = deface_rectangles(image, centerface=centerface)
            subprocess.run([exe, folder, '--replacewith', 'mosaic', '--mosaicsize', str(size),
                            '--boxes'], check=True, capture_output=True)
            cases = []
            for stem, drawn in rects.items():
                image = _rgb(osp.join(folder, stem + '_anonymized.png'))
                cases.append(dict(
                    name=f'{stem} m{size}', found=_located(image),
                    targets=[tuple(r) + (size, ) for r in drawn
                             if r[2] >= 2 * size and r[3] >= 2 * size],
                    allowed=list(drawn) + union_of_overlapping(drawn)))
            results[f'mosaic {size}'] = cases
    everything = [c for cases in results.values() for c in cases]
    out = {k: _public(score_detections(v)) for k, v in results.items()}
    out['all'] = _public(score_detections(everything))
    return out


def video_figures(img_path: str, frames: int = 24) -> dict:
    """Per-frame recall on an H.264 video made by the builder from a sample photo (a pan),
    against the builder's per-frame ``faces.json``."""
    import imageio_ffmpeg

    photo = _rgb(img_path)
    h, w = photo.shape[:2]
    size = (min(w - frames * 2, 400) // 2 * 2, min(h, 300) // 2 * 2)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(osp.join(tmp, 'cam'))
        raw = osp.join(tmp, 'cam', 'pan.mp4')
        writer = imageio_ffmpeg.write_frames(raw, size, fps=10, codec='libx264',
                                             pix_fmt_out='yuv444p', macro_block_size=1,
                                             ffmpeg_log_level='error', output_params=['-crf', '10'])
        writer.send(None)
        y0 = (h - size[1]) // 2
        for i in range(frames):
            writer.send(np.ascontiguousarray(photo[y0:y0 + size[1], 2 * i:2 * i + size[0]]))
        writer.close()
        out_dir = osp.join(tmp, 'deid')
        build_deid_dataset(video=raw, out_dir=out_dir, strengths=(8, ), progress=False)
        with open(osp.join(out_dir, 'faces.json')) as f:
            faces = json.load(f)
        cases = []
        mosaic = osp.join(out_dir, 'mosaic', 's8', 'pan.mp4')
        for index, frame in enumerate(read_video_frames(mosaic)):
            boxes = faces.get(str(index), [])
            cases.append(dict(name=f'frame {index}', found=_located(frame),
                              targets=[(x, y, bw, bh, builder_block_size(bw, bh, 8))
                                       for x, y, bw, bh, *_ in boxes]))
    result = _public(score_detections(cases))
    per_frame = [score_detections([c])['recall'] for c in cases if c['targets']]
    result['frames'] = len(cases)
    result['min_frame_recall'] = float(min(per_frame)) if per_frame else None
    return result


def _public(result: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()
            if k in ('recall', 'precision', 'block_accuracy', 'targets', 'hits', 'found')}


# ------------------------------------------------------------------------------- speed
def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def speed(restorer, images: List[np.ndarray], boxes: List[list], mode: str,
          repeat: int = 1) -> dict:
    """Images per second of ``mode`` ('region' or 'whole') on ``images``."""
    start = time.perf_counter()
    for _ in range(repeat):
        if mode == 'region':
            for i in range(0, len(images), 4):
                restore_regions(images[i:i + 4], boxes[i:i + 4], restorer)
        else:
            for image in images:
                restore_whole(image, restorer)
    seconds = time.perf_counter() - start
    return dict(mode=mode, images=len(images) * repeat, seconds=round(seconds, 3),
                images_per_second=round(len(images) * repeat / seconds, 3))


def large_image(photo: np.ndarray, boxes: list, size=(6000, 8000), copies: int = 4) -> tuple:
    """A very large image (H, W = ``size``): ``photo`` upscaled as the background, with
    ``copies`` copies of it (and its mosaics) pasted at native resolution; returns the image and
    the boxes."""
    h, w = photo.shape[:2]
    big = cv2.resize(photo, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    big_boxes = []
    corners = [(0, 0), (0, size[1] - w), (size[0] - h, 0), (size[0] - h, size[1] - w),
               ((size[0] - h) // 2, (size[1] - w) // 2)][:copies]
    for top, left in corners:
        big[top:top + h, left:left + w] = photo
        big_boxes += [[x + left, y + top, bw, bh] for x, y, bw, bh in boxes]
    return np.ascontiguousarray(big), big_boxes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--localiser', action='store_true', help='localiser figures')
    parser.add_argument('--speed', action='store_true', help='restore speed and memory')
    parser.add_argument('--video-stability', action='store_true',
                        help='video flicker and identity consistency, per frame against along '
                        'face tracks (video_stability.py; give --config and trained --checkpoint)')
    parser.add_argument('--throughput', action='store_true',
                        help='the restore loop: whole image, region before batching, batched '
                        '(restore_throughput.py)')
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', DEFAULT_SAMPLE))
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='model config (speed)')
    parser.add_argument('--checkpoint', help='weights (speed; random weights if omitted)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=2, help='passes over the images')
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--case-sets', nargs='*', default=['evaluation'],
                        choices=list(localiser_cases.SETS),
                        help='localiser_cases sets tabled with --localiser (none: skip)')
    parser.add_argument('--out', help='also write the results as json')
    parser.add_argument('--deid-dir', help=argparse.SUPPRESS)  # internal: child processes
    parser.add_argument('--only', choices=MODES, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def build_sample(sample: str, out_dir: str) -> str:
    deid = osp.join(out_dir, 'val2017')
    build_deid_dataset(ann_file=osp.join(sample, 'annotations', 'test_coco.json'),
                       img_dir=osp.join(sample, 'val2017'), out_dir=deid, strengths=(8, 16),
                       face_sources=('wholebody', ),
                       wholebody_ann=osp.join(sample, 'annotations', 'test_coco_wholebody.json'),
                       progress=False)
    return deid


def run_mode(args) -> dict:
    """One speed mode in this process (called in a child)."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    model = init_model(args.config, args.checkpoint, device=args.device)
    restorer = model_restorer(model)
    with open(osp.join(args.deid_dir, 'faces.json')) as f:
        faces = json.load(f)
    names = sorted(faces)
    images = [_rgb(osp.join(args.deid_dir, 'mosaic', 's8', osp.splitext(n)[0] + '.png'))
              for n in names]
    boxes = [[b[:4] for b in faces[n]] for n in names]
    restorer(images[:1])  # warm-up (allocator, kernels)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    if args.only in ('region', 'whole'):
        result = speed(restorer, images, boxes, args.only, repeat=args.repeat)
        result['sizes'] = [list(i.shape[:2]) for i in images]
    elif args.only == 'video':
        import imageio_ffmpeg
        photo = images[1]
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'pan.mp4')
            h, w = photo.shape[:2]
            writer = imageio_ffmpeg.write_frames(path, (w - 40, h - 1), fps=10, codec='libx264',
                                                 pix_fmt_out='yuv444p', macro_block_size=1,
                                                 ffmpeg_log_level='error',
                                                 output_params=['-crf', '18'])
            writer.send(None)
            for i in range(20):
                writer.send(np.ascontiguousarray(photo[:h - 1, i:i + w - 40]))
            writer.close()
            start = time.perf_counter()
            counts = restore_video(path, osp.join(tmp, 'out.mp4'), restorer)
            seconds = time.perf_counter() - start
        result = dict(mode='video', frames=counts['frames'], seconds=round(seconds, 3),
                      frames_per_second=round(counts['frames'] / seconds, 3),
                      size=counts['size'], boxes=counts['boxes'], flicker=counts['flicker'])
    else:
        big, big_boxes = large_image(images[1], boxes[1])
        start = time.perf_counter()
        if args.only == 'large_region':
            restore_regions([big], [big_boxes], restorer)
        else:
            restore_whole(big, restorer)
        seconds = time.perf_counter() - start
        result = dict(mode=args.only, size=list(big.shape[:2]), boxes=len(big_boxes),
                      seconds=round(seconds, 3))
    result['peak_rss_mib'] = round(peak_rss_mib(), 1)
    if args.device.startswith('cuda'):
        result['peak_cuda_mib'] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    result['device'] = args.device
    result['threads'] = torch.get_num_threads()
    return result


def main(argv=None):
    args = parse_args(argv)
    if args.only:
        print(json.dumps(run_mode(args)))
        return
    if not (args.localiser or args.speed or args.video_stability or args.throughput):
        sys.exit('benchmark_restore.py: error: give --localiser, --speed, --video-stability '
                 'and/or --throughput')
    if not osp.isdir(args.sample):
        sys.exit(f'benchmark_restore.py: error: sample folder not found: {args.sample}')
    results = {}
    if args.throughput:
        from restore_throughput import main as throughput
        options = ['--sample', args.sample, '--config', args.config, '--device', args.device]
        results['throughput'] = throughput(
            options + (['--checkpoint', args.checkpoint] if args.checkpoint else []))
    if args.video_stability:
        import video_stability
        argv = ['--config', args.config, '--sample', args.sample, '--device', args.device]
        argv += ['--checkpoint', args.checkpoint] if args.checkpoint else []
        results['video_stability'] = video_stability.main(argv)  # a moving camera
        results['video_stability_still_camera'] = video_stability.main(
            argv + ['--motion', 'subject'])
    if not (args.localiser or args.speed):
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(results, f, indent=1)
        return
    with tempfile.TemporaryDirectory() as tmp:
        deid = build_sample(args.sample, tmp)
        if args.localiser:
            results['builder'] = builder_figures(deid)
            results['deface'] = deface_figures(osp.join(args.sample, 'val2017'))
            results['h264_video'] = video_figures(
                osp.join(args.sample, 'val2017', '000000040083.jpg'))
            print(json.dumps({k: results[k] for k in ('builder', 'deface', 'h264_video')},
                             indent=1))
            for set_name in args.case_sets:
                cases = localiser_cases.run_set(set_name, args.sample, progress=True)
                print(localiser_cases.report(set_name, cases), flush=True)
                results[f'cases_{set_name}'] = dict(summary=localiser_cases.summary(cases),
                                                    table=localiser_cases.table(cases))
        if args.speed:
            speed = {}
            for mode in args.modes:
                cmd = [sys.executable, osp.abspath(__file__), '--only', mode, '--deid-dir', deid,
                       '--config', args.config, '--device', args.device,
                       '--repeat', str(args.repeat)]
                if args.threads:
                    cmd += ['--threads', str(args.threads)]
                if args.checkpoint:
                    cmd += ['--checkpoint', args.checkpoint]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f'benchmark_restore.py: error: mode {mode} failed: '
                             f'{done.stderr.strip().splitlines()[-1:]}')
                speed[mode] = json.loads(done.stdout.strip().splitlines()[-1])
                print(json.dumps(speed[mode]))
            if 'region' in speed and 'whole' in speed:
                speed['region_over_whole'] = round(speed['region']['images_per_second']
                                                   / speed['whole']['images_per_second'], 2)
                print(f"region mode / whole-image mode: {speed['region_over_whole']}x")
            results['speed'] = speed
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
