"""Benchmark the restore path: localiser figures, and restore speed and memory.

    python tools/benchmark_restore.py --localiser              # recall / precision / block size
    python tools/benchmark_restore.py --speed [--config C] [--checkpoint W] [--device cpu]

Localiser: the builder's output of the COCO sample (strengths 4-16, PNG and JPEG 90/75/60),
images pixelated by the deface CLI, and per-frame recall on an H.264 video made by the builder.
Speed: region vs whole-image mode on the sample's builder mosaics (COCO sizes), video frames per
second, and an 8000x6000 image; each mode runs in its own process so its peak memory is its own.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'rdid_gan_coco.py')
MODES = ('region', 'whole', 'video', 'large_region', 'large_whole')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--localiser', action='store_true', help='localiser figures')
    parser.add_argument('--speed', action='store_true', help='restore speed and memory')
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', DEFAULT_SAMPLE))
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='model config (speed)')
    parser.add_argument('--checkpoint', help='weights (speed; random weights if omitted)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=2, help='passes over the images')
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--out', help='also write the results as json')
    parser.add_argument('--deid-dir', help=argparse.SUPPRESS)  # internal: child processes
    parser.add_argument('--only', choices=MODES, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def build_sample(sample: str, out_dir: str) -> str:
    from rdid_mm.deid import build_deid_dataset
    deid = osp.join(out_dir, 'val2017')
    build_deid_dataset(ann_file=osp.join(sample, 'annotations', 'test_coco.json'),
                       img_dir=osp.join(sample, 'val2017'), out_dir=deid, strengths=(8, 16),
                       face_sources=('wholebody', ),
                       wholebody_ann=osp.join(sample, 'annotations', 'test_coco_wholebody.json'),
                       progress=False)
    return deid


def run_mode(args) -> dict:
    """One speed mode in this process (called in a child)."""
    import numpy as np
    import torch

    from rdid_mm.apis import init_model
    from rdid_mm.restore import benchmark as bench
    from rdid_mm.restore.generator import model_restorer
    from rdid_mm.restore.video import restore_video
    if args.threads:
        torch.set_num_threads(args.threads)
    model = init_model(args.config, args.checkpoint, device=args.device)
    restorer = model_restorer(model)
    with open(osp.join(args.deid_dir, 'faces.json')) as f:
        faces = json.load(f)
    names = sorted(faces)
    images = [bench._rgb(osp.join(args.deid_dir, 'mosaic', 's8', osp.splitext(n)[0] + '.png'))
              for n in names]
    boxes = [[b[:4] for b in faces[n]] for n in names]
    restorer(images[:1])  # warm-up (allocator, kernels)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    if args.only in ('region', 'whole'):
        result = bench.speed(restorer, images, boxes, args.only, repeat=args.repeat)
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
        big, big_boxes = bench.large_image(images[1], boxes[1])
        start = time.perf_counter()
        if args.only == 'large_region':
            bench.restore_regions([big], [big_boxes], restorer)
        else:
            bench.restore_whole(big, restorer)
        seconds = time.perf_counter() - start
        result = dict(mode=args.only, size=list(big.shape[:2]), boxes=len(big_boxes),
                      seconds=round(seconds, 3))
    result['peak_rss_mib'] = round(bench.peak_rss_mib(), 1)
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
    if not (args.localiser or args.speed):
        sys.exit('benchmark_restore.py: error: give --localiser and/or --speed')
    if not osp.isdir(args.sample):
        sys.exit(f'benchmark_restore.py: error: sample folder not found: {args.sample}')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        deid = build_sample(args.sample, tmp)
        if args.localiser:
            from rdid_mm.restore import benchmark as bench
            results['builder'] = bench.builder_figures(deid)
            results['deface'] = bench.deface_figures(osp.join(args.sample, 'val2017'))
            results['h264_video'] = bench.video_figures(
                osp.join(args.sample, 'val2017', '000000040083.jpg'))
            print(json.dumps({k: results[k] for k in ('builder', 'deface', 'h264_video')},
                             indent=1))
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
