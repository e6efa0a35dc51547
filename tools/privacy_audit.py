"""Identity leakage of pixelated and restored faces, by rank against a gallery of originals.

    python tools/privacy_audit.py data/deid_coco/val2017 \
        --rows mosaic:s8 mosaic:s16 restored:RDID-GAN=work_dirs/restored_s8 --out work_dirs/privacy

Rows: ``original`` (always included: the upper bound), ``mosaic:sS``, ``restored:NAME=DIR``
(``DIR/<stem>.png`` as tools/restore.py writes). With ``--weights`` the faces of the model's
training split and the held-out ones are reported side by side. See docs/privacy.md.
"""
import argparse
import sys

from rdid_mm.privacy import privacy_audit
from rdid_mm.utils.compat import fix_malloc_mmap_threshold


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('deid_dir', help='the builder output folder (with gt/ and faces.json)')
    parser.add_argument('--rows', nargs='+', default=[], help='original, mosaic:sS, '
                        'restored:NAME=DIR (default: every mosaic strength)')
    parser.add_argument('--out', required=True, help='folder for the report, CSVs and the plot')
    parser.add_argument('--gallery', help='a folder of photographs of other people: their faces '
                        'join the gallery as distractors')
    parser.add_argument('--weights', help='the weights file of the restoring model: report its '
                        'training-split faces and held-out faces apart')
    parser.add_argument('--embedder', default='dlib', help='a registered embedder (dlib) or '
                        'the path of an ONNX face-recognition model (e.g. ArcFace)')
    parser.add_argument('--min-face-size', type=float,
                        help="smallest face embedded, px of sqrt(w h) (the embedder's default: 24)")
    parser.add_argument('--align', choices=['own', 'original'], default='own',
                        help="landmarks from each image (own) or from the original")
    parser.add_argument('--buckets', type=float, nargs='+', default=[24, 32, 48, 96],
                        help='face-size bucket edges in px (default: 24 32 48 96)')
    parser.add_argument('--bootstrap', type=int, default=1000, help='bootstrap resamples')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def embedder_config(args) -> dict:
    cfg = dict(type='onnx', model_path=args.embedder) if args.embedder.endswith('.onnx') else dict(
        type=args.embedder)
    if args.min_face_size is not None:
        cfg['min_face_size'] = args.min_face_size
    return cfg


def main(argv=None):
    args = parse_args(argv)
    fix_malloc_mmap_threshold()  # steady memory over many image sizes
    try:
        rows = args.rows
        if not rows:
            from rdid_mm.layout import DeidLayout
            rows = [f'mosaic:s{s}' for s in DeidLayout(args.deid_dir).strengths()]
        result = privacy_audit(args.deid_dir, rows, args.out, embedder=embedder_config(args),
                               gallery_dir=args.gallery, align=args.align, weights=args.weights,
                               buckets=args.buckets, num_bootstrap=args.bootstrap, seed=args.seed,
                               progress=True)
    except (ValueError, FileNotFoundError, ImportError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) else err
        print(f'privacy_audit.py: error: {message}', file=sys.stderr)
        return 2
    print(open(result['paths']['privacy_audit.md']).read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
