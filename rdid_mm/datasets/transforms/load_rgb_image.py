"""``LoadRGBImage``: the project's one image decoder (``rdid_mm.utils.io.read_image``), a transform.

mmcv's Pillow and OpenCV paths decode 16-bit, LA and palette files differently from the builder
(and from each other); this transform decodes exactly as the builder and every evaluation row do:
pixels as stored (no EXIF rotation), 8-bit RGB. It sets the keys mmagic's ``LoadImageFromFile``
sets, so the rest of the pipeline is unchanged.
"""
from mmcv.transforms import BaseTransform

from rdid_mm.registry import TRANSFORMS
from rdid_mm.utils.io import read_rgb


@TRANSFORMS.register_module()
class LoadRGBImage(BaseTransform):
    """Read ``results[f'{key}_path']`` into ``results[key]`` (H x W x 3 uint8, RGB).

    Args:
        key: the image key (``img_mosaic``, ``img_gt``).
    """

    def __init__(self, key: str):
        self.key = key

    def transform(self, results: dict) -> dict:
        image = read_rgb(str(results[f'{self.key}_path']))
        results[self.key] = image
        results[f'ori_{self.key}_shape'] = image.shape
        results[f'{self.key}_channel_order'] = 'rgb'
        results[f'{self.key}_color_type'] = 'color'
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(key={self.key!r})'
