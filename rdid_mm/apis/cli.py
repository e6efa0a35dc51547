"""Command-line options shared by the evaluation tools (the split, and the detector)."""
import argparse

from rdid_mm.evaluation.keypoint_rcnn import TORCHVISION_WEIGHTS


def add_split_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('deid_root', help="the de-identification builder's output folder")
    parser.add_argument('--out-dir', required=True, help='where tables and plots are written')
    parser.add_argument('--strengths', type=int, nargs='+',
                        help='pixelation strengths (default: every mosaic/s* folder)')
    parser.add_argument('--gt-dir', help='original images (default: DEID_ROOT/gt; needed for a '
                        'dataset built with --publish)')
    parser.add_argument('--ann-file', help='default: DEID_ROOT/annotations/person_keypoints.json')
    parser.add_argument('--cache-dir', help='detections cache (default: OUT_DIR/cache)')
    parser.add_argument('--bootstrap', type=int, default=1000, help='bootstrap resamples')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')


def add_detector_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--detector-weights', default=TORCHVISION_WEIGHTS,
        help="'torchvision' (COCO_V1, downloaded), a state_dict file, or 'none' (random: smoke "
        'tests only)')
    parser.add_argument('--min-size', type=int, default=800, help="detector's resize (800)")
    parser.add_argument('--max-size', type=int, default=1333, help="detector's max side (1333)")
    parser.add_argument('--detections-per-img', type=int, default=100,
                        help="detector's box_detections_per_img (torchvision: 100)")
    parser.add_argument(
        '--detector-bn-eps', type=float,
        help="FrozenBatchNorm eps of a detector weights file (default: what the file is: the eps "
        "it records, 0 for torchvision's COCO_V1 file, else torchvision's 1e-5)")
    parser.add_argument('--device', default='auto', help="'auto', 'cpu', 'cuda', 'cuda:1'")
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images per detector call (torchvision pads a batch to its largest '
                        'image, which changes detections slightly; the cache keys on it)')


def detector_from_args(args: argparse.Namespace) -> dict:
    weights = None if args.detector_weights.lower() == 'none' else args.detector_weights
    cfg = dict(weights=weights, min_size=args.min_size, max_size=args.max_size,
               box_detections_per_img=args.detections_per_img)
    if getattr(args, 'detector_bn_eps', None) is not None:
        cfg['bn_eps'] = args.detector_bn_eps
    return cfg
