"""Peak resident memory of building, restoration and evaluation at two dataset sizes.

    python tools/analysis_tools/benchmark_memory.py --sizes 100 2000 --work-dir /tmp/rdid_memory

Makes N images from the COCO sample by flips and crops (a COCO json with their person boxes),
then runs each tool as a user would, in its own process, and reads that process's peak RSS from
the kernel (``os.wait4``): ``tools/build_deid_dataset.py`` (CenterFace), ``tools/restore.py`` (a
tiny RDID-GAN, random weights: memory does not depend on training) and ``tools/eval_table.py``
(GT and Mosaic rows, Keypoint R-CNN with random weights at a small size, 1 detection per image
since its keypoint head dominates the CPU time, no face-model columns), and ``cocoeval``:
pycocotools' COCOeval alone on the GT row's detections, the reference for how evaluation state
grows with the images. Prints a table of peak RSS per tool
and size, the growth between the sizes, and the growth per image.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
TINY = osp.join(REPO, 'configs', 'rdid_gan', 'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


def make_copies(sample_dir: str, count: int, out_dir: str, seed: int = 0) -> str:
    """``count`` images cut from the sample (random crop of 60-100% per side, half of them
    flipped) with their person boxes; returns the COCO json written beside them."""
    import cv2
    rng = np.random.default_rng(seed)
    with open(osp.join(sample_dir, 'annotations', 'test_coco.json')) as f:
        coco = json.load(f)
    sources = [(im, cv2.imread(osp.join(sample_dir, 'val2017', im['file_name'])))
               for im in coco['images']]
    persons = {}
    for ann in coco['annotations']:
        persons.setdefault(ann['image_id'], []).append(ann['bbox'])
    images, annotations = [], []
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    for idx in range(count):
        info, pixels = sources[idx % len(sources)]
        height, width = pixels.shape[:2]
        crop_w, crop_h = (int(side * rng.uniform(0.6, 1.0)) for side in (width, height))
        x0, y0 = int(rng.integers(0, width - crop_w + 1)), int(rng.integers(0, height - crop_h + 1))
        crop = pixels[y0:y0 + crop_h, x0:x0 + crop_w]
        flip = bool(idx % 2)
        if flip:
            crop = crop[:, ::-1]
        name = f'images/{idx:06d}.jpg'
        cv2.imwrite(osp.join(out_dir, name), crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
        images.append(dict(id=idx + 1, file_name=name, height=crop_h, width=crop_w))
        for x, y, w, h in persons.get(info['id'], []):
            left, top = max(x - x0, 0), max(y - y0, 0)
            right, bottom = min(x + w - x0, crop_w), min(y + h - y0, crop_h)
            if right - left < 4 or bottom - top < 4:
                continue
            if flip:
                left, right = crop_w - right, crop_w - left
            box = [float(left), float(top), float(right - left), float(bottom - top)]
            annotations.append(dict(id=len(annotations) + 1, image_id=idx + 1, category_id=1,
                                    bbox=box, area=box[2] * box[3], iscrowd=0,
                                    num_keypoints=0, keypoints=[0] * 51))
    ann_file = osp.join(out_dir, 'annotations.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=coco['categories']), f)
    return ann_file


COCOEVAL_ONLY = '''
import json, sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
gt = COCO(sys.argv[1])
with open(sys.argv[2]) as f:
    detections = json.load(f)['detections']
results = gt.loadRes(detections) if detections else None
for iou_type in ('bbox', 'keypoints'):
    evaluation = COCOeval(gt, results, iou_type)
    evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()
print(len(detections), 'detections')
'''


# Linux records the RSS a process had before exec() in its peak (ru_maxrss): a tool forked from
# this benchmark (torch and cv2 loaded, about 940 MiB) would never read below that. A minimal
# launcher (a few MiB) starts each tool, waits for it and reports the tool's own peak.
LAUNCHER = '''
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], 'w') as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
'''


def gt_row_file(root: str) -> str:
    """Where ``tools/eval_table.py --out-dir ROOT/table`` caches the GT row's detections."""
    return osp.join(root, 'table', 'cache', 'rows', 'gt-GT.json')


def peak_rss_mib(args, log_file: str) -> tuple:
    """Run ``args``; return (peak RSS of that process in MiB, seconds). Fails on a non-zero exit."""
    start = time.time()
    peak_file = log_file + '.maxrss'
    with open(log_file, 'w') as log:
        code = subprocess.call([sys.executable, '-S', '-c', LAUNCHER, peak_file, *args], cwd=REPO,
                               stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f'{args[1]} failed (exit {code}); see {log_file}')
    with open(peak_file) as f:
        return int(f.read()) / 1024, time.time() - start


def tiny_weights(work_dir: str) -> str:
    """A weights file of the tiny RDID-GAN with its initial (random) weights."""
    import torch
    from mmengine.config import Config

    from rdid_mm.engine import register_all_modules
    from rdid_mm.registry import MODELS
    from rdid_mm.utils.weights_file import save_state_dict_file
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY).model)
    path = osp.join(work_dir, 'tiny_random.safetensors')
    save_state_dict_file(model.state_dict(), path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[100, 2000])
    parser.add_argument('--work-dir', default='/tmp/rdid_memory')
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', SAMPLE))
    parser.add_argument('--tools', nargs='+', default=['build', 'restore', 'evaluate', 'cocoeval'],
                        choices=['build', 'restore', 'evaluate', 'cocoeval'])
    args = parser.parse_args(argv)
    if 'cocoeval' in args.tools and 'evaluate' not in args.tools and not all(
            osp.isfile(gt_row_file(osp.join(args.work_dir, f'n{size}'))) for size in args.sizes):
        parser.error('cocoeval reads the GT row that evaluate writes: add evaluate to --tools')
    order = ['build', 'restore', 'evaluate', 'cocoeval']
    args.tools = sorted(set(args.tools), key=order.index)  # cocoeval after the evaluate it reads
    py = sys.executable
    os.makedirs(args.work_dir, exist_ok=True)
    weights = tiny_weights(args.work_dir)
    results = {}
    for size in args.sizes:
        root = osp.join(args.work_dir, f'n{size}')
        images = osp.join(root, 'input')
        ann_file = make_copies(args.sample, size, images)
        deid = osp.join(root, 'deid')
        commands = {
            'build': [py, 'tools/build_deid_dataset.py', '--ann-file', ann_file, '--img-dir',
                      images, '--out', deid, '--strengths', '8', '--face-source', 'centerface'],
            'restore': [py, 'tools/restore.py', TINY, weights, '--deid-dir', deid,
                        '--strength', '8', '--out', osp.join(root, 'restored')],
            'evaluate': [py, 'tools/eval_table.py', deid, '--out-dir', osp.join(root, 'table'),
                         '--strengths', '8', '--detector-weights', 'none', '--min-size', '64',
                         '--max-size', '96', '--detections-per-img', '1', '--no-face-models',
                         '--bootstrap', '10', '--device', 'cpu'],
            # COCOeval alone on the GT row's detections: the state that grows with the images
            'cocoeval': [py, '-c', COCOEVAL_ONLY, ann_file, gt_row_file(root)],
        }
        outputs = dict(build=deid, restore=osp.join(root, 'restored'),
                       evaluate=osp.join(root, 'table'))
        for tool in args.tools:
            if tool in outputs:
                shutil.rmtree(outputs[tool], ignore_errors=True)  # a rerun must redo the work
            rss, seconds = peak_rss_mib(commands[tool], osp.join(root, f'{tool}.log'))
            results[(tool, size)] = rss
            print(f'{tool:<9} {size:>5} images: peak RSS {rss:7.1f} MiB ({seconds:.0f} s)',
                  flush=True)
    small, large = min(args.sizes), max(args.sizes)
    print(f'\n| tool | peak RSS at {small} | at {large} | growth | per image |\n'
          '|---|---|---|---|---|')
    for tool in args.tools:
        a, b = results[(tool, small)], results[(tool, large)]
        per_image = (b - a) * 1024 / (large - small) if large > small else 0.0
        print(f'| {tool} | {a:.0f} MiB | {b:.0f} MiB | {100 * (b - a) / a:+.1f}% | '
              f'{per_image:.1f} KiB |')


if __name__ == '__main__':
    main()
