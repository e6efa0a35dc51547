"""Training samples/s per data-loader worker, split into decode / crop / pack, and the workers a
GPU needs.

Without ``--data-root`` it de-identifies the shared COCO person sample (4 val2017 images at COCO
sizes, strengths 8 and 16) into a temporary folder first and measures on that copy.

    python tools/benchmark_dataloader.py --samples 64 --loader-workers 0 2
"""
import argparse
import os.path as osp
import sys
import tempfile

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'coco_person_sample')
CONFIG = osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py')


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
    from rdid_mm.deid import build_deid_dataset
    ann = osp.join(sample, 'annotations')
    out = osp.join(out_dir, 'val2017')
    build_deid_dataset(ann_file=osp.join(ann, 'test_coco.json'),
                       img_dir=osp.join(sample, 'val2017'), out_dir=out, strengths=(8, 16),
                       face_sources=('wholebody', ),
                       wholebody_ann=osp.join(ann, 'test_coco_wholebody.json'), workers=0)
    return out


def main():
    args = parse_args()
    import cv2

    from rdid_mm.datasets.loading_benchmark import (benchmark_loading, flop_derived_rate,
                                                    format_loading_benchmark)
    from rdid_mm.utils import register_all_modules
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
