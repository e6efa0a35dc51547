"""Image reading for evaluation follows the stored pixels, as COCO's annotations do."""
import numpy as np
from PIL import Image

from rdid_mm.evaluation.files import read_rgb


def test_read_rgb_ignores_exif_orientation(tmp_path):
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = str(tmp_path / 'rotated.png')
    Image.fromarray(stored).save(path, exif=exif)
    image = read_rgb(path)
    assert image.shape == (20, 40, 3)
    assert tuple(image[10, 5]) == (255, 0, 0) and tuple(image[10, 35]) == (0, 0, 0)
