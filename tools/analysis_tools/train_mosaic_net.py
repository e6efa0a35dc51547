"""Train the learned mosaic detector (``rdid_mm/restore/mosaic_net.py``) on the tuning composites of
``localiser_cases.py`` only (seed 0: every scene, pixelator and JPEG quality; the evaluation set is
never read), on one CPU thread, deterministically.

    python tools/analysis_tools/train_mosaic_net.py [--steps 3000] [--out mosaic_net.pth]

Per case, ``--crops`` crops of ``--crop`` px: half centred (with jitter) on a pixelated rectangle,
half anywhere. Labels: ``inside`` (the rectangles every pixelator changed, of any size) and
``edge`` (``EDGE_BAND`` px either side of each rectangle's outline, which separates touching
mosaics). Loss: binary cross-entropy of both maps; Adam with a cosine learning rate; random flips
and transposes.
"""
import argparse
import io
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling case builder
from localiser_cases import DEFAULT_SAMPLE, iter_cases  # noqa: E402

from rdid_mm.restore.mosaic_net import EDGE_BAND, WEIGHTS, features, mosaic_net  # noqa: E402
from rdid_mm.utils.io import atomic_write  # noqa: E402


def labels(shape, rects) -> np.ndarray:
    """uint8 map: bit 0 inside a rectangle, bit 1 within ``EDGE_BAND`` px of an outline."""
    inside = np.zeros(shape, np.uint8)
    edge = np.zeros(shape, np.uint8)
    b = EDGE_BAND
    for x, y, w, h, *_ in rects:
        inside[y:y + h, x:x + w] = 1
        edge[max(y - b, 0):y + h + b, max(x - b, 0):x + w + b] = 1
        edge[y + b:max(y + h - b, y + b), x + b:max(x + w - b, x + b)] = 0
    return inside | (edge << 1)


def make_crops(sample: str, crop: int, per_case: int, seed: int, images=None):
    """``(luma crops, label crops, cases)`` from every tuning case (of ``images``, default all)."""
    rng = np.random.default_rng(seed)
    lumas, labs, count = [], [], 0
    for case in iter_cases('tuning', sample, images=images):
        y = cv2.cvtColor(case['image'], cv2.COLOR_RGB2GRAY)
        lab = labels(y.shape, case['drawn'])
        height, width = y.shape
        if height < crop or width < crop:
            pad = ((0, max(crop - height, 0)), (0, max(crop - width, 0)))
            y, lab = np.pad(y, pad, mode='edge'), np.pad(lab, pad)
            height, width = y.shape
        for k in range(per_case):
            if k % 2 == 0 and case['drawn']:
                x, yy, w, h = case['drawn'][int(rng.integers(len(case['drawn'])))][:4]
                cx = x + w // 2 + int(rng.integers(-crop // 4, crop // 4 + 1))
                cy = yy + h // 2 + int(rng.integers(-crop // 4, crop // 4 + 1))
                x0 = int(np.clip(cx - crop // 2, 0, width - crop))
                y0 = int(np.clip(cy - crop // 2, 0, height - crop))
            else:
                x0 = int(rng.integers(0, width - crop + 1))
                y0 = int(rng.integers(0, height - crop + 1))
            lumas.append(y[y0:y0 + crop, x0:x0 + crop])
            labs.append(lab[y0:y0 + crop, x0:x0 + crop])
        count += 1
    return np.stack(lumas), np.stack(labs), count


def batch(lumas, labs, index, rng):
    """Features and targets of the crops ``index``, each flipped / transposed at random."""
    xs, ts = [], []
    for i in index:
        y, lab = lumas[i], labs[i]
        if rng.random() < 0.5:
            y, lab = y[:, ::-1], lab[:, ::-1]
        if rng.random() < 0.5:
            y, lab = y[::-1], lab[::-1]
        if rng.random() < 0.5:
            y, lab = y.T, lab.T
        xs.append(features(np.ascontiguousarray(y)))
        ts.append(np.stack([lab & 1, lab >> 1]).astype(np.float32))
    return np.stack(xs), np.stack(ts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', DEFAULT_SAMPLE))
    parser.add_argument('--out', default=WEIGHTS)
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--crop', type=int, default=128)
    parser.add_argument('--crops', type=int, default=4, help='crops per case')
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--edge-weight', type=float, default=4.0,
                        help='positive weight of the edge map (a thin band)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--images', nargs='+', help='tuning images to train on (default: all; '
                        'fewer to check on the others how the network does on unseen images)')
    return parser.parse_args(argv)


def main(argv=None):
    import torch
    import torch.nn.functional as F
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    lumas, labs, cases = make_crops(args.sample, args.crop, args.crops, args.seed,
                                     args.images)
    print(f'{len(lumas)} crops of {args.crop} px from {cases} tuning cases '
          f'({(labs & 1).mean():.3f} of pixels inside, {(labs >> 1).mean():.3f} edge) in '
          f'{time.perf_counter() - start:.0f} s', flush=True)
    net = mosaic_net()
    print(f'{sum(p.numel() for p in net.parameters())} parameters', flush=True)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.steps)
    pos_weight = torch.tensor([1.0, args.edge_weight])[None, :, None, None]
    start, running = time.perf_counter(), []
    for step in range(1, args.steps + 1):
        x, t = batch(lumas, labs, rng.integers(0, len(lumas), args.batch), rng)
        logits = net(torch.from_numpy(x))
        loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(t),
                                                  pos_weight=pos_weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running.append(loss.item())
        if step % 200 == 0 or step == args.steps:
            print(f'step {step}/{args.steps}: loss {np.mean(running):.4f} '
                  f'({time.perf_counter() - start:.0f} s)', flush=True)
            running = []
    data = io.BytesIO()
    torch.save(net.state_dict(), data)
    atomic_write(args.out, data.getvalue())  # the default replaces the shipped weights
    print(f'wrote {args.out} ({osp.getsize(args.out)} bytes)')


if __name__ == '__main__':
    main()
