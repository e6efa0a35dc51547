"""Write the demo images that ship with rdid_mm (or its installed packages) into one folder.

    python tools/demo_data.py --out work_dirs/demo/data

Writes ``OUT/images/{000000000785.jpg, astronaut.png, grace_hopper.png}`` and
``OUT/annotations/demo_wholebody.json`` (see demo/README.md for sources and licences).
Nothing is downloaded. The two portraits are scaled down so that their faces are as small as COCO's
(about 32 px, like the face of image 785): the demo's 64 px training crops then hold whole faces.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(REPO, 'demo')
FACE_SIZE = 32  # the shorter side of a portrait's face box after scaling, in pixels


def _scaled_annotation(ann: dict, sx: float, sy: float) -> dict:
    """A COCO(-WholeBody) annotation with its coordinates scaled by (sx, sy)."""
    ann = dict(ann)
    for key in ('bbox', 'face_box'):
        if key in ann:
            x, y, w, h = ann[key]
            ann[key] = [round(x * sx, 2), round(y * sy, 2), round(w * sx, 2), round(h * sy, 2)]
    if 'keypoints' in ann:
        points = ann['keypoints']
        ann['keypoints'] = [round(v * (sx if i % 3 == 0 else sy), 2) if i % 3 < 2 and points[
            i - i % 3 + 2] > 0 else v for i, v in enumerate(points)]
    if isinstance(ann.get('segmentation'), list):
        ann['segmentation'] = [[round(v * (sx if i % 2 == 0 else sy), 2) for i, v in
                                enumerate(polygon)] for polygon in ann['segmentation']]
    ann['area'] = round(ann['area'] * sx * sy, 2)
    return ann


def _write_portrait(pixels, name: str, images_dir: str, ann: dict, image: dict) -> None:
    """Scale a portrait so its face box's shorter side is FACE_SIZE; update its json entries."""
    import numpy as np
    from PIL import Image

    from rdid_mm.utils.io import write_image
    scale = FACE_SIZE / min(ann['face_box'][2:])
    width, height = round(image['width'] * scale), round(image['height'] * scale)
    small = Image.fromarray(pixels).convert('RGB').resize((width, height), Image.LANCZOS)
    write_image(np.asarray(small), osp.join(images_dir, name))
    sx, sy = width / image['width'], height / image['height']
    ann.update(_scaled_annotation(ann, sx, sy))
    image.update(file_name=name, width=width, height=height)


def write_demo_data(out_dir: str) -> str:
    """Copy or write the three demo images and their json; return the json's path."""
    import json

    import matplotlib.cbook
    import numpy as np
    import skimage.data
    from PIL import Image

    from rdid_mm.utils.io import atomic_write, atomic_write_json
    images_dir = osp.join(out_dir, 'images')
    with open(osp.join(DEMO, 'images', '000000000785.jpg'), 'rb') as f:
        atomic_write(osp.join(images_dir, '000000000785.jpg'), f.read())
    with open(osp.join(DEMO, 'annotations', 'demo_wholebody.json')) as f:
        coco = json.load(f)
    images = {image['file_name']: image for image in coco['images']}
    by_image = {ann['image_id']: ann for ann in coco['annotations']}
    hopper = np.asarray(Image.open(matplotlib.cbook.get_sample_data('grace_hopper.jpg',
                                                                    asfileobj=False)))
    for source, name, pixels in (('astronaut.png', 'astronaut.png', skimage.data.astronaut()),
                                 ('grace_hopper.jpg', 'grace_hopper.png', hopper)):
        image = images[source]
        _write_portrait(pixels, name, images_dir, by_image[image['id']], image)
    ann_file = osp.join(out_dir, 'annotations', 'demo_wholebody.json')
    atomic_write_json(ann_file, coco)
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
