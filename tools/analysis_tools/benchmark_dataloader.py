"""Training samples/s per data-loader worker, split into decode / crop / pack, and the workers a
GPU needs.

Runs a config's training pipeline in this process (one worker's work) over the samples of a
de-identified dataset, cycled, timing each transform: ``decode`` (``LoadImageFromFile`` of the
mosaic and the original, ``CheckPairedImages``), ``crop`` (``FaceAwareCrop``/``Resize`` and
``Flip``) and ``pack`` (``PackInputs``: HWC uint8 to CHW tensors). Optionally it also measures the
real training ``DataLoader`` (``ResumableInfiniteSampler`` + ``PerSampleSeedDataset``) with some
worker counts. The rate a GPU needs is given, or derived from FLOPs:
``peak_tflops * utilisation / tflop_per_sample``.

Without ``--data-root`` it de-identifies the shared COCO person sample (4 val2017 images at COCO
sizes, strengths 8 and 16) into a temporary folder first and measures on that copy.

    python tools/analysis_tools/benchmark_dataloader.py --samples 64 --loader-workers 0 2
"""
import argparse
import math
import os.path as osp
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from rdid_mm.datasets import PerSampleSeedDataset, ResumableInfiniteSampler
from rdid_mm.deid import build_deid_dataset
from rdid_mm.engine import register_all_modules, resolve_data_settings
from rdid_mm.registry import DATASETS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'coco_person_sample')
CONFIG = osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py')
STAGE_OF = {
    'LoadImageFromFile': 'decode', 'CheckPairedImages': 'decode',
    'FaceAwareCrop': 'crop', 'Resize': 'crop', 'Flip': 'crop',
    'PackInputs': 'pack',
}
STAGES = ('decode', 'crop', 'pack')


def flop_derived_rate(tflop_per_sample: float, peak_tflops: float, utilisation: float) -> float:
    """Training samples per second a GPU consumes: its useful TFLOP/s over TFLOP per sample."""
    return peak_tflops * utilisation / tflop_per_sample


def _train_dataset(config: str, data_root: str):
    cfg = Config.fromfile(config)
    cfg.data_root, cfg.train_split = data_root, None  # the folder itself is the training split
    resolve_data_settings(cfg)  # data_root and strengths as the training loop fills them
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.subset = 'all'  # every image of the folder, no held-out validation split
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return cfg, dataset


def benchmark_loading(config: str, data_root: str, num_samples: int = 64, warmup: int = 4,
                      seed: int = 0, loader_workers: Sequence[int] = (),
                      loader_batches: int = 8) -> dict:
    """Time the training pipeline per stage in this process; optionally the real DataLoader."""
    np.random.seed(seed)
    cfg, dataset = _train_dataset(config, data_root)
    transforms = dataset.pipeline.transforms
    times = defaultdict(list)
    sizes = []
    for n in range(warmup + num_samples):
        results = dataset.get_data_info(n % len(dataset))
        per_stage = dict.fromkeys(STAGES, 0.0)
        for transform in transforms:
            start = time.perf_counter()
            results = transform(results)
            per_stage[STAGE_OF.get(type(transform).__name__, 'crop')] += (
                time.perf_counter() - start)
            if type(transform).__name__ == 'CheckPairedImages':
                sizes.append(results['img_gt'].shape[:2])
        if n >= warmup:
            for stage, seconds in per_stage.items():
                times[stage].append(seconds)
    mean = {stage: statistics.mean(times[stage]) for stage in STAGES}
    total = sum(mean.values())
    result = dict(
        samples=num_samples, dataset_length=len(dataset),
        image_size=(statistics.mean(s[0] for s in sizes), statistics.mean(s[1] for s in sizes)),
        stage_ms={stage: 1000 * mean[stage] for stage in STAGES}, total_ms=1000 * total,
        per_worker_rate=1.0 / total, loader={})
    for workers in loader_workers:
        result['loader'][workers] = _loader_rate(cfg, dataset, workers, loader_batches, seed)
    return result


def _loader_rate(cfg, dataset, num_workers: int, batches: int, seed: int) -> float:
    """Samples per second of the training DataLoader (first batch excluded: worker start-up)."""
    batch_size = cfg.train_dataloader.get('batch_size') or 4
    loader = DataLoader(PerSampleSeedDataset(dataset), batch_size=batch_size,
                        sampler=ResumableInfiniteSampler(dataset, seed=seed),
                        num_workers=num_workers, collate_fn=pseudo_collate)
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    rate = batches * batch_size / (time.perf_counter() - start)
    del iterator
    return rate


def format_loading_benchmark(result: dict, target_rate: float,
                             target_source: Optional[str] = None) -> str:
    """The figures as text: per-stage ms, samples/s per worker, workers for ``target_rate``."""
    height, width = result['image_size']
    stage = ', '.join(f'{name} {ms:.1f} ms' for name, ms in result['stage_ms'].items())
    workers = math.ceil(target_rate / result['per_worker_rate'])
    lines = [
        f'training pipeline, one worker, {result["samples"]} samples cycled over '
        f'{result["dataset_length"]} (mean image {height:.0f} x {width:.0f}):',
        f'  per sample: {stage}; total {result["total_ms"]:.1f} ms',
        f'  {result["per_worker_rate"]:.1f} samples/s per worker',
        f'  target {target_rate:.0f} samples/s{f" ({target_source})" if target_source else ""}: '
        f'{workers} workers (one CPU core each)',
    ]
    for num_workers, rate in result['loader'].items():
        lines.append(f'  DataLoader with num_workers={num_workers}: {rate:.1f} samples/s')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=CONFIG, help='config whose training pipeline is timed')
    parser.add_argument('--data-root', help='a de-identified dataset folder (builder output)')
    parser.add_argument('--sample', default=SAMPLE, help='COCO sample to de-identify if no '
                        '--data-root (annotations/test_coco.json, val2017/)')
    parser.add_argument('--samples', type=int, default=64, help='timed samples')
    parser.add_argument('--loader-workers', type=int, nargs='*', default=[],
                        help='also time the real DataLoader with these num_workers')
    parser.add_argument('--target-rate', type=float,
                        help='samples/s the GPU consumes (default: derived from FLOPs)')
    parser.add_argument('--tflop-per-sample', type=float, default=1.3)
    parser.add_argument('--peak-tflops', type=float, default=790.0, help='H200 bf16')
    parser.add_argument('--utilisation', type=float, default=0.35)
    parser.add_argument('--threads', type=int, default=1, help='torch/OpenCV threads (a worker)')
    return parser.parse_args()


def deidentified_copy(sample: str, out_dir: str) -> str:
    ann = osp.join(sample, 'annotations')
    out = osp.join(out_dir, 'val2017')
    build_deid_dataset(ann_file=osp.join(ann, 'test_coco.json'),
                       img_dir=osp.join(sample, 'val2017'), out_dir=out, strengths=(8, 16),
                       face_sources=('wholebody', ),
                       wholebody_ann=osp.join(ann, 'test_coco_wholebody.json'), workers=0)
    return out


def main():
    args = parse_args()
    register_all_modules()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    if args.target_rate is not None:
        target, source = args.target_rate, None
    else:
        target = flop_derived_rate(args.tflop_per_sample, args.peak_tflops, args.utilisation)
        source = (f'{args.peak_tflops:g} TFLOP/s x {args.utilisation:g} / '
                  f'{args.tflop_per_sample:g} TFLOP per sample')
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data_root = args.data_root or deidentified_copy(args.sample, tmp)
            result = benchmark_loading(args.config, data_root, num_samples=args.samples,
                                       loader_workers=args.loader_workers)
        except (FileNotFoundError, ValueError) as err:
            sys.exit(f'benchmark_dataloader.py: error: {err}')
    print(format_loading_benchmark(result, target, source))


if __name__ == '__main__':
    main()
