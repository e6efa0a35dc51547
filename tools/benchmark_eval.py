"""Detector forward time against the whole evaluation, split by stage, on the same images.

    python tools/benchmark_eval.py                              # COCO_V1 weights (downloaded)
    python tools/benchmark_eval.py --detector-weights none      # random weights (offline CPU)
"""
import argparse
import os.path as osp

from rdid_mm.evaluation import benchmark_eval, format_benchmark
from rdid_mm.reports.cli_options import add_detector_args, detector_from_args

SAMPLE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'shared', 'data',
                  'coco_person_sample')


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark the Keypoint R-CNN evaluation')
    parser.add_argument('--ann-file', default=osp.join(SAMPLE, 'annotations', 'test_coco.json'))
    parser.add_argument('--img-dir', default=osp.join(SAMPLE, 'val2017'))
    parser.add_argument('--num-images', type=int, help='first N images (default: all)')
    parser.add_argument('--repeats', type=int, default=3)
    add_detector_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    result = benchmark_eval(args.ann_file, args.img_dir, detector=detector_from_args(args),
                            num_images=args.num_images, repeats=args.repeats,
                            batch_size=args.batch_size, device=args.device)
    print(format_benchmark(result))


if __name__ == '__main__':
    main()
