"""``--detector-config`` and friends: any mmdet / mmpose model as the tools' detector.

Used beside ``rdid_mm.apis.cli.add_detector_args`` (whose ``--detector-weights`` then names
the config's weights file, or ``none``); the result goes to :func:`build_detector`.
"""
import argparse


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
    ``rdid_mm.apis.cli.detector_from_args`` gives) unless ``--detector-config`` is set."""
    if not getattr(args, 'detector_config', None):
        return keypoint_rcnn
    cfg = dict(config=args.detector_config, weights=args.detector_weights)
    if args.detector_boxes != 'gt':
        cfg['boxes'] = dict(config=args.detector_boxes, weights=args.detector_boxes_weights)
        cfg['box_score_thr'] = args.detector_box_thr
    return cfg
