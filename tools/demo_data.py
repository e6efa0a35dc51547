"""Write the demo images that ship with rdid_mm (or its installed packages) into one folder.

    python tools/demo_data.py --out work_dirs/demo/data

Writes ``OUT/images/{000000000785.jpg, astronaut.png, grace_hopper.jpg}`` and
``OUT/annotations/demo_wholebody.json`` (see demo/README.md for sources and licences).
Nothing is downloaded.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(REPO, 'demo')


def write_demo_data(out_dir: str) -> str:
    """Copy or write the three demo images and their json; return the json's path."""
    import matplotlib.cbook
    import skimage.data
    from PIL import Image

    from rdid_mm.utils.io import atomic_write, write_image
    images = osp.join(out_dir, 'images')
    with open(osp.join(DEMO, 'images', '000000000785.jpg'), 'rb') as f:
        atomic_write(osp.join(images, '000000000785.jpg'), f.read())
    write_image(skimage.data.astronaut(), osp.join(images, 'astronaut.png'))
    hopper = matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
    with open(hopper, 'rb') as f:
        atomic_write(osp.join(images, 'grace_hopper.jpg'), f.read())
    ann_file = osp.join(out_dir, 'annotations', 'demo_wholebody.json')
    with open(osp.join(DEMO, 'annotations', 'demo_wholebody.json'), 'rb') as f:
        atomic_write(ann_file, f.read())
    Image.open(osp.join(images, 'astronaut.png')).verify()
    return ann_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True, help='output folder')
    args = parser.parse_args(argv)
    try:
        print(write_demo_data(args.out))
    except (OSError, ImportError) as err:
        sys.exit(f'demo_data.py: error: {err}')


if __name__ == '__main__':
    main()
