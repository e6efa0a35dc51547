"""Command-line options shared by the table tools (eval_table, strength_sweep, benchmark_eval):
the split, the Keypoint R-CNN detector, and ``--detector-config`` for any mmdet / mmpose model."""
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


def add_detector_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--detector-config',
        help='score with this mmdet detection or mmpose body-keypoint config (a file or '
        "mmdet::/mmpose:: name) instead of Keypoint R-CNN; --detector-weights is then its "
        "weights file, or 'none' (random: smoke tests only)")
    parser.add_argument(
        '--detector-boxes', default='gt',
        help="top-down pose configs: 'gt' (the annotation file's person boxes, default) or an "
        'mmdet config whose person boxes the pose model reads')
    parser.add_argument('--detector-boxes-weights', default='none',
                        help="weights file of the --detector-boxes detector (or 'none')")
    parser.add_argument('--detector-box-thr', type=float, default=0.3,
                        help='top-down pose configs: lowest detector box score used (0.3)')


def detector_settings_from_args(args: argparse.Namespace, keypoint_rcnn: dict) -> dict:
    """The settings for :func:`build_detector`: ``keypoint_rcnn`` (what
    :func:`detector_from_args` gives) unless ``--detector-config`` is set."""
    if not getattr(args, 'detector_config', None):
        return keypoint_rcnn
    cfg = dict(config=args.detector_config, weights=args.detector_weights)
    if args.detector_boxes != 'gt':
        cfg['boxes'] = dict(config=args.detector_boxes, weights=args.detector_boxes_weights)
        cfg['box_score_thr'] = args.detector_box_thr
    return cfg
