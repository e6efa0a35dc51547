"""Fixtures for the de-identification tests: the sample's annotations and images, loaded once."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope='session')
def wholebody_json(sample_wholebody_ann_file):
    with open(sample_wholebody_ann_file) as f:
        return json.load(f)


@pytest.fixture(scope='session')
def sample_images(wholebody_json, sample_img_dir):
    """``{file_name: (image info, RGB pixels, [annotations])}`` for the 4 sample images."""
    images = {}
    for info in wholebody_json['images']:
        anns = [a for a in wholebody_json['annotations'] if a['image_id'] == info['id']]
        with Image.open(osp.join(sample_img_dir, info['file_name'])) as im:
            pixels = np.asarray(im.convert('RGB'))
        images[info['file_name']] = (info, pixels, anns)
    return images


@pytest.fixture(scope='session')
def valid_face_boxes(wholebody_json):
    """``[(file_name, annotation id, (x1, y1, x2, y2))]`` of the valid WholeBody face boxes."""
    names = {img['id']: img['file_name'] for img in wholebody_json['images']}
    boxes = []
    for ann in wholebody_json['annotations']:
        if ann.get('face_valid'):
            x, y, w, h = ann['face_box']
            boxes.append((names[ann['image_id']], ann['id'], (x, y, x + w, y + h)))
    assert len(boxes) == 4, 'the sample README promises 4 valid face boxes'
    return boxes


@pytest.fixture(scope='session')
def make_copied_sample(sample_wholebody_ann_file, sample_img_dir):
    """``make(root, copies) -> (ann_file, img_dir)``: the 4 sample images copied ``copies`` times
    under new names, with their COCO-WholeBody annotations (new image and annotation ids)."""

    def make(root, copies):
        with open(sample_wholebody_ann_file) as f:
            coco = json.load(f)
        img_dir = osp.join(root, 'images')
        os.makedirs(img_dir)
        images, annotations = [], []
        for copy in range(copies):
            for img in coco['images']:
                name = f'{copy:03d}_{img["file_name"]}'
                shutil.copyfile(osp.join(sample_img_dir, img['file_name']),
                                osp.join(img_dir, name))
                image_id = copy * 10**6 + img['id']
                images.append(dict(img, id=image_id, file_name=name))
                annotations += [dict(a, id=copy * 10**7 + a['id'], image_id=image_id)
                                for a in coco['annotations'] if a['image_id'] == img['id']]
        ann_file = osp.join(root, 'coco_wholebody.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(coco, images=images, annotations=annotations), f)
        return ann_file, img_dir

    return make
