"""Restoration throughput of the restore loop: whole image, region mode before batching, batched.

    python tools/analysis_tools/restore_throughput.py [--config C] [--checkpoint W] \
        [--images 32] [--whole-images 6] [--rounds 2] [--out figures.json]

The loop end to end (decode, boxes, restore, PNG encode, atomic write:
``rdid_mm.restore.loop.restore_input`` with a boxes file) on COCO-sized images of three faces:
each photo of the shared COCO sample with its own face and two faces of the other photos pasted
beside it (the sample's faces are 26-36 px), pixelated with the builder's function at S = 8.

    whole          restore_input(whole_image=True), direct convolutions
    region_before  the loop before batching: 4 images per generator batch, decoding and writing
                   in turn with the model, one restorer thread (torch's intra-op threads),
                   direct convolutions
    batched_direct the defaults' batching and threads with direct convolutions (what batching
                   alone gains)
    batched        the defaults: 16 images per batch, decode ahead and write behind in threads,
                   on the CPU one restorer thread per core and Winograd 3x3 convolutions

Rounds alternate the modes, so a shared machine's drift hits all of them; each mode's best round
counts. The outputs of ``batched`` are compared with ``region_before``'s pixel by pixel.
Random weights unless ``--checkpoint`` (speed does not depend on them).
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List

import cv2
import numpy as np

from rdid_mm.deid import build_deid_dataset
from rdid_mm.deid.pixelate import pixelate_boxes
from rdid_mm.layout import DeidLayout
from rdid_mm.models.restorers import model_restorer
from rdid_mm.restore.generator import init_model
from rdid_mm.restore.loop import restore_input
from rdid_mm.utils.io import read_rgb

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'rdid_gan_coco.py')
MODES = ('whole', 'region_before', 'batched_direct', 'batched')
STRENGTH = 8


def build_sample_faces(sample: str, out_dir: str) -> DeidLayout:
    """The builder's output of the shared sample (its ``gt/`` and face boxes)."""
    deid = osp.join(out_dir, 'deid')
    build_deid_dataset(ann_file=osp.join(sample, 'annotations', 'test_coco.json'),
                       img_dir=osp.join(sample, 'val2017'), out_dir=deid, strengths=(STRENGTH, ),
                       face_sources=('wholebody', ),
                       wholebody_ann=osp.join(sample, 'annotations', 'test_coco_wholebody.json'),
                       progress=False)
    return DeidLayout(deid)


def _overlaps(box, boxes, margin: int = 8) -> bool:
    x, y, w, h = box
    return any(x < bx + bw + margin and bx < x + w + margin and y < by + bh + margin
               and by < y + h + margin for bx, by, bw, bh in boxes)


def crowd_images(layout: DeidLayout, count: int, faces_per_image: int = 3,
                 seed: int = 0) -> List[tuple]:
    """``count`` images ``(name, pixelated RGB, [[x, y, w, h], ...])``: the sample's photos in
    turn, each with faces of the other photos (with a margin of context) pasted at random free
    places until it holds ``faces_per_image``, all pixelated at S = 8."""
    rng = np.random.default_rng(seed)
    faces = layout.faces()
    photos = []
    for name in sorted(faces):
        photo = read_rgb(layout.gt(name))
        boxes = [[int(round(v)) for v in box[:4]] for box in faces[name]]
        photos.append((photo, boxes))
    patches = []
    for photo, boxes in photos:
        for x, y, w, h in boxes:
            m = max(w, h) // 2
            x1, y1 = max(0, x - m), max(0, y - m)
            patch = photo[y1:y + h + m, x1:x + w + m]
            patches.append((patch, [x - x1, y - y1, w, h]))
    images = []
    for index in range(count):
        photo, boxes = photos[index % len(photos)]
        image, boxes = photo.copy(), [list(b) for b in boxes]
        height, width = image.shape[:2]
        for _ in range(200):
            if len(boxes) >= faces_per_image:
                break
            patch, (px, py, pw, ph) = patches[rng.integers(len(patches))]
            top = int(rng.integers(0, height - patch.shape[0]))
            left = int(rng.integers(0, width - patch.shape[1]))
            box = [left + px, top + py, pw, ph]
            if _overlaps([left, top, patch.shape[1], patch.shape[0]], boxes):
                continue
            image[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
            boxes.append(box)
        mosaic = pixelate_boxes(image, [(x, y, x + w, y + h) for x, y, w, h in boxes], STRENGTH)
        images.append((f'crowd_{index:04d}.png', mosaic, boxes))
    return images


def write_inputs(images: List[tuple], folder: str) -> str:
    """The images as PNGs in ``folder`` and their boxes file; returns the boxes file's path."""
    os.makedirs(folder, exist_ok=True)
    for name, image, _ in images:
        cv2.imwrite(osp.join(folder, name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    boxes_file = folder.rstrip('/') + '_boxes.json'
    with open(boxes_file, 'w') as f:
        json.dump({name: boxes for name, _, boxes in images}, f)
    return boxes_file


def run_mode(model, mode: str, folder: str, boxes_file: str, out_dir: str) -> tuple:
    """Seconds ``restore_input`` takes on ``folder`` in ``mode``, and its summary."""
    own_setting, model.winograd = getattr(model, 'winograd', True), mode == 'batched'
    if mode == 'whole':
        restorer, options = model_restorer(model), dict(whole_image=True)
    elif mode == 'region_before':
        restorer = model_restorer(model, workers=1)
        options = dict(boxes_file=boxes_file, images_per_batch=4, background_io=False)
    else:  # batched, batched_direct
        restorer, options = model_restorer(model), dict(boxes_file=boxes_file)
    try:
        start = time.perf_counter()
        summary = restore_input(restorer, folder, out_dir, **options)
        return time.perf_counter() - start, summary
    finally:
        model.winograd = own_setting


def max_pixel_difference(dir_a: str, dir_b: str, names: List[str]) -> int:
    return max(int(np.abs(read_rgb(osp.join(dir_a, n)).astype(np.int16)
                          - read_rgb(osp.join(dir_b, n)).astype(np.int16)).max())
               for n in names)


def measure(model, sample: str, images: int = 32, whole_images: int = 6, rounds: int = 2,
            work_dir: str = None) -> Dict[str, dict]:
    """The table: per mode images, faces, best seconds, images/s, and the speed-ups."""
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        layout = build_sample_faces(sample, tmp)
        crowd = crowd_images(layout, images)
        folder = osp.join(tmp, 'in', 'all')
        boxes_file = write_inputs(crowd, folder)
        whole_folder = osp.join(tmp, 'in', 'whole')
        write_inputs(crowd[:whole_images], whole_folder)
        model_restorer(model)([crowd[0][1][:64, :64]])  # warm-up (allocator, kernels)
        best, restored = {}, {}
        for round_index in range(rounds):
            for mode in MODES:
                out = osp.join(tmp, f'out_{mode}_{round_index}')
                seconds, summary = run_mode(
                    model, mode, whole_folder if mode == 'whole' else folder, boxes_file, out)
                best[mode] = min(best.get(mode, seconds), seconds)
                restored[mode] = (summary['restored'], summary['boxes'])
        names = [name for name, _, _ in crowd]
        difference = max_pixel_difference(osp.join(tmp, 'out_region_before_0'),
                                          osp.join(tmp, 'out_batched_0'), names)
    faces = sum(len(b) for _, _, b in crowd)
    table = {}
    for mode in MODES:
        n = whole_images if mode == 'whole' else images
        if restored[mode] != (n, 0 if mode == 'whole' else faces):
            raise RuntimeError(f'{mode}: restored {restored[mode]} (images, faces), expected '
                               f'{n} images and their {faces} faces')
        table[mode] = dict(images=n, faces=restored[mode][1], seconds=round(best[mode], 3),
                           images_per_second=round(n / best[mode], 3))
    rate = {m: table[m]['images_per_second'] for m in MODES}
    for mode in ('batched_direct', 'batched'):
        table[mode]['vs_whole'] = round(rate[mode] / rate['whole'], 2)
        table[mode]['vs_region_before'] = round(rate[mode] / rate['region_before'], 2)
    table['region_before']['vs_whole'] = round(rate['region_before'] / rate['whole'], 2)
    table['batched']['max_pixel_difference_vs_region_before'] = difference
    table['sizes'] = sorted({f'{img.shape[1]}x{img.shape[0]}' for _, img, _ in crowd})
    return table


def markdown(table: dict) -> str:
    lines = ['| mode | images | faces | seconds | images/s | vs whole image | vs region before |',
             '|---|---|---|---|---|---|---|']
    for mode in MODES:
        row = table[mode]
        lines.append(f"| {mode} | {row['images']} | {row['faces']} | {row['seconds']} | "
                     f"{row['images_per_second']} | {row.get('vs_whole', '')} | "
                     f"{row.get('vs_region_before', '')} |")
    lines.append(f"\nbatched vs region before: max pixel difference "
                 f"{table['batched']['max_pixel_difference_vs_region_before']} grey levels; "
                 f"sizes {', '.join(table['sizes'])}")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', DEFAULT_SAMPLE))
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', help='weights (random weights if omitted)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--images', type=int, default=32, help='images of the region modes')
    parser.add_argument('--whole-images', type=int, default=6, help='images of whole-image mode')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--out', help='also write the table as json')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isdir(args.sample):
        sys.exit(f'restore_throughput.py: error: sample folder not found: {args.sample}')
    model = init_model(args.config, args.checkpoint, device=args.device)
    table = measure(model, args.sample, args.images, args.whole_images, args.rounds)
    print(markdown(table))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(table, f, indent=1)
    return table


if __name__ == '__main__':
    main()
