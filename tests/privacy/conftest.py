"""Fixtures of the privacy tests: the sample built with a face box for every annotated person,
public-domain portraits that installed packages ship, and rows made from the originals."""
import json
import os
import os.path as osp

import cv2
import pytest

from rdid_mm.utils.io import read_rgb


@pytest.fixture(scope='session')
def privacy_sample(tmp_path_factory, sample_ann_file, sample_wholebody_ann_file, sample_img_dir):
    """The builder's output for the sample at strengths 8 and 16 with a face box for each of the
    12 annotated persons (COCO keypoints and COCO-WholeBody); ``deid_sample`` has only the 4
    COCO-WholeBody boxes, all under 30 px."""
    from rdid_mm.deid import build_deid_dataset
    out_dir = tmp_path_factory.mktemp('privacy_sample') / 'val2017'
    build_deid_dataset(
        ann_file=sample_ann_file, img_dir=sample_img_dir, out_dir=str(out_dir),
        strengths=(8, 16), face_sources=('coco_keypoints', 'wholebody'),
        wholebody_ann=sample_wholebody_ann_file, workers=0)
    return str(out_dir)


@pytest.fixture(scope='session')
def portrait_gallery(tmp_path_factory):
    """scikit-image's astronaut (Eileen Collins, NASA) and matplotlib's Grace Hopper (US Navy):
    public-domain portraits, as PNG files of a gallery folder."""
    import matplotlib.cbook
    import skimage.data
    folder = tmp_path_factory.mktemp('gallery')
    hopper = read_rgb(str(matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)))
    for name, image in (('astronaut.png', skimage.data.astronaut()), ('grace_hopper.png', hopper)):
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return str(folder)


@pytest.fixture(scope='session')
def dlib_embedder():
    from rdid_mm.privacy import build_embedder
    return build_embedder('dlib')


def sample_faces(deid_dir):
    with open(osp.join(deid_dir, 'faces.json')) as f:
        return json.load(f)


def box_slices(box, shape):
    x, y, w, h = (int(round(v)) for v in box[:4])
    return slice(max(0, y), min(shape[0], y + h)), slice(max(0, x), min(shape[1], x + w))


def write_row(deid_dir, out_dir, transform, ext='.png', jpeg_quality=None):
    """A row folder: ``transform(image, boxes, file_name)`` of each original, as ``<stem><ext>``."""
    os.makedirs(out_dir, exist_ok=True)
    faces = sample_faces(deid_dir)
    for file_name, boxes in faces.items():
        image = transform(read_rgb(osp.join(deid_dir, 'gt', file_name)), boxes, file_name)
        params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if jpeg_quality else []
        path = osp.join(out_dir, osp.splitext(file_name)[0] + ext)
        assert cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    return str(out_dir)


def flip_faces(image, boxes, file_name):
    """Every face box mirrored left-right in place."""
    out = image.copy()
    for box in boxes:
        rows, cols = box_slices(box, image.shape)
        out[rows, cols] = image[rows, cols][:, ::-1]
    return out
