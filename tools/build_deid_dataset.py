"""Build the de-identified (face-pixelated) dataset from COCO person images, a folder, or a video.

    python tools/build_deid_dataset.py \
        --ann-file data/coco/annotations/person_keypoints_val2017.json \
        --img-dir data/coco/val2017 --out data/deid_coco/val2017 --strengths 8 16 \
        --face-source centerface

Without ``--ann-file``, ``--img-dir`` is a plain folder of images; ``--video`` de-identifies a
video. See docs/deid.md.
"""
import argparse
import sys

from rdid_mm.deid import build_deid_dataset
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--ann-file', help='COCO person json (omit for a plain folder of images)')
    parser.add_argument('--img-dir', help='the images (file_name is relative to it)')
    parser.add_argument('--video', help='a video file to de-identify instead of images')
    parser.add_argument('--out', required=True, help='output folder (not inside the inputs)')
    parser.add_argument('--strengths', type=int, nargs='+', default=[8],
                        help='block sizes in pixels at native resolution (default: 8)')
    parser.add_argument('--face-source', nargs='+', default=['centerface'],
                        choices=['centerface', 'dsfd', 'coco_keypoints', 'wholebody'],
                        help='face sources; several are used together, overlaps merged')
    parser.add_argument('--wholebody-ann', help='COCO-WholeBody json for the wholebody source')
    parser.add_argument('--margin', type=float, default=0.1,
                        help='boxes grow by this fraction of their size on each side (0.1)')
    parser.add_argument('--score-thr', type=float,
                        help='detection threshold of centerface/dsfd (defaults: 0.2 / 0.5)')
    parser.add_argument('--dsfd-weights', help='DSFD weights file (default: torch hub cache)')
    parser.add_argument('--workers', type=int, default=0, help='worker processes (0: none)')
    parser.add_argument('--publish', action='store_true',
                        help='leave out gt/: write only what may be shared')
    parser.add_argument('--jpeg-quality', type=int, help='write JPEG mosaics instead of PNG')
    parser.add_argument('--require-all-faces', action='store_true',
                        help='fail (do not publish) images where the audit finds a missed face')
    parser.add_argument('--privacy-check', action='store_true',
                        help='after the build, report per strength how identifiable the mosaics '
                        'still are (rank of the own original, dlib embedder; needs gt/)')
    parser.add_argument('--overwrite', action='store_true',
                        help='rebuild an output folder built with other settings')
    return parser.parse_args(argv)


def face_source_configs(args):
    configs = []
    for name in args.face_source:
        cfg = dict(type=name)
        if args.score_thr is not None and name in ('centerface', 'dsfd'):
            cfg['score_thr'] = args.score_thr
        if args.dsfd_weights and name == 'dsfd':
            cfg['weights'] = args.dsfd_weights
        configs.append(cfg if len(cfg) > 1 else name)
    return configs


def main(argv=None):
    args = parse_args(argv)
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    if args.privacy_check and args.publish:
        print('build_deid_dataset.py: error: --privacy-check needs the originals (gt/), which '
              '--publish leaves out', file=sys.stderr)
        return 2
    try:
        summary = build_deid_dataset(
            ann_file=args.ann_file, img_dir=args.img_dir, video=args.video, out_dir=args.out,
            strengths=args.strengths, face_sources=face_source_configs(args),
            wholebody_ann=args.wholebody_ann, margin=args.margin, workers=args.workers,
            publish=args.publish, jpeg_quality=args.jpeg_quality,
            require_all_faces=args.require_all_faces, overwrite=args.overwrite)
        if args.privacy_check:
            # rdid_mm.deid never imports the privacy package (it sits above it): the tool does.
            from rdid_mm.privacy import privacy_check
            print('\n'.join(privacy_check(args.out, args.strengths)['lines']))
    except (ValueError, FileNotFoundError, ImportError) as err:
        print(f'build_deid_dataset.py: error: {err}', file=sys.stderr)
        return 2
    # With --require-all-faces, images with a missed face fail: say so in the exit status.
    return 1 if summary['images']['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
