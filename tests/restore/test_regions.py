"""Region-mode restoration changes only the boxes, batched across images and boxes."""
import numpy as np

from rdid_mm.models.region_restore import restore_regions
from rdid_mm.restore.regions import restore_whole

from .conftest import read_rgb
from tests.helpers import changed_outside


class CountingInverter:
    """A restorer that inverts its crops and records the batches it was given."""

    def __init__(self):
        self.calls = []

    def __call__(self, crops):
        self.calls.append([c.shape for c in crops])
        return [255 - c for c in crops]


def test_only_box_pixels_change_on_real_images(deid_sample):
    import json
    import os.path as osp
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    names = sorted(faces)
    images = [read_rgb(osp.join(deid_sample, 'mosaic', 's8', osp.splitext(n)[0] + '.png'))
              for n in names]
    boxes = [[b[:4] for b in faces[n]] for n in names]
    restorer = CountingInverter()
    out = restore_regions(images, boxes, restorer)
    assert len(restorer.calls) == 1 and len(restorer.calls[0]) == sum(map(len, boxes))
    for image, result, image_boxes in zip(images, out, boxes):
        assert changed_outside(image, result, image_boxes) == 0
        for x, y, w, h in image_boxes:
            np.testing.assert_array_equal(result[y:y + h, x:x + w], 255 - image[y:y + h, x:x + w])
        if not image_boxes:
            np.testing.assert_array_equal(result, image)


def test_fractional_and_outside_boxes_are_clipped():
    image = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    boxes = [[55.5, 40.2, 20, 20], [100, 100, 5, 5]]
    out = restore_regions([image], [boxes], CountingInverter())[0]
    np.testing.assert_array_equal(out[40:, 55:], 255 - image[40:, 55:])
    assert changed_outside(image, out, [[55, 40, 5, 10]]) == 0


def test_whole_image_in_tiles_equals_untiled_for_a_pointwise_restorer():
    image = np.random.default_rng(1).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    restorer = CountingInverter()
    tiled = restore_whole(image, restorer, tile=128, overlap=16)
    np.testing.assert_array_equal(tiled, 255 - image)
    assert max(max(s[0], s[1]) for call in restorer.calls for s in call) <= 128
