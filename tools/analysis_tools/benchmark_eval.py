"""Where evaluation time goes: the detector's own forward time against the whole evaluation.

For the same images it measures (1) the detector alone on already decoded, preprocessed
inputs, one image per call, and (2) the whole metric path (``DetectorAPMetric``: decode,
preprocess, forward, scoring), and reports both with the per-stage split of (2).

    python tools/analysis_tools/benchmark_eval.py                          # COCO_V1 weights
    python tools/analysis_tools/benchmark_eval.py --detector-weights none  # random (offline CPU)
"""
import argparse
import os.path as osp
import statistics
import time
from typing import Optional

from rdid_mm.evaluation.coco_scoring import load_coco
from rdid_mm.evaluation.detection import (
    resolve_device,
    run_detector,
    to_detector_input,
    to_uint8_chw,
)
from rdid_mm.evaluation.keypoint_rcnn import build_keypoint_rcnn
from rdid_mm.evaluation.metrics.detector_ap_metric import DetectorAPMetric
from rdid_mm.evaluation.stage_timer import StageTimer
from rdid_mm.reports.cli_options import add_detector_args, detector_from_args
from rdid_mm.utils.io import read_rgb

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'coco_person_sample')
STAGES = ('decode', 'preprocess', 'forward', 'scoring')


def benchmark_eval(ann_file: str, img_dir: str, detector: Optional[dict] = None,
                   num_images: Optional[int] = None, repeats: int = 3, batch_size: int = 1,
                   device: str = 'auto') -> dict:
    """Measure and return the timings (seconds); see :func:`format_benchmark`."""
    coco = load_coco(ann_file)
    images = [coco.imgs[i] for i in sorted(coco.imgs)][:num_images]
    samples = [dict(img_id=im['id'], gt_path=osp.join(img_dir, im['file_name'])) for im in images]
    torch_device = resolve_device(device)
    timer = StageTimer()
    with timer.stage('build'):
        model = build_keypoint_rcnn(**(detector or {})).to(torch_device)
    inputs = [to_detector_input(to_uint8_chw(read_rgb(s['gt_path'])), torch_device)
              for s in samples]
    with timer.stage('warm-up'):
        run_detector(model, inputs[:1])
    per_image, detections = [], []
    for _ in range(repeats):
        for tensor in inputs:
            start = time.perf_counter()
            with timer.stage('detector-only'):
                output = run_detector(model, [tensor])[0]
            per_image.append(time.perf_counter() - start)
            detections.append(len(output['boxes']))

    metric = DetectorAPMetric(ann_file, pred_key='img_gt', detector=model, device=device,
                              batch_size=batch_size)
    runs = []
    for _ in range(repeats):
        metric.timer.reset()
        start = time.perf_counter()
        for first in range(0, len(samples), batch_size):
            metric.process(None, samples[first:first + batch_size])
        metric.compute_metrics(metric.results)
        metric.results.clear()
        total = time.perf_counter() - start
        runs.append(dict(total=total, **{s: metric.timer.seconds.get(s, 0.0) for s in STAGES}))
    best = min(runs, key=lambda r: r['total'])
    return dict(
        device=str(torch_device), images=len(samples), repeats=repeats, batch_size=batch_size,
        sizes=[(im['height'], im['width']) for im in images],
        min_size=getattr(model.transform, 'min_size', None),
        max_size=getattr(model.transform, 'max_size', None),
        build_seconds=timer.seconds['build'], warmup_seconds=timer.seconds['warm-up'],
        detections_per_image=statistics.mean(detections),
        detector_forward_median=statistics.median(per_image),
        detector_forward_total=timer.seconds['detector-only'] / repeats,
        evaluation=best)


def format_benchmark(result: dict) -> str:
    """The measured numbers as a readable report."""
    ev = result['evaluation']
    n = result['images']
    lines = [
        f'device {result["device"]}, {n} images {result["sizes"]}, detector resize min_size='
        f'{result["min_size"]} max_size={result["max_size"]}, best of {result["repeats"]} runs, '
        f'batch size {result["batch_size"]}',
        f'detector build {result["build_seconds"]:.2f} s, warm-up forward '
        f'{result["warmup_seconds"]:.2f} s',
        f'detector forward alone: {result["detector_forward_median"]:.3f} s/image (median), '
        f'{result["detector_forward_total"]:.2f} s for all images, '
        f'{result["detections_per_image"]:.1f} detections/image (the keypoint head runs on each)',
        f'whole evaluation: {ev["total"]:.2f} s ({ev["total"] / n:.3f} s/image)',
        '| stage | seconds | s/image | share |', '|---|---|---|---|',
    ]
    other = ev['total'] - sum(ev[s] for s in STAGES)
    for stage, seconds in [(s, ev[s]) for s in STAGES] + [('other', other)]:
        lines.append(f'| {stage} | {seconds:.3f} | {seconds / n:.4f} | '
                     f'{100 * seconds / ev["total"]:.1f}% |')
    return '\n'.join(lines)


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
