"""Check that a mosaic and its original have the same size as the annotation says."""
from typing import Sequence

from mmcv.transforms import BaseTransform

from rdid_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckPairedImages(BaseTransform):
    """Raise a ValueError naming the files if the images differ in size from each other or from
    ``ori_shape`` (the annotation's (height, width)).

    Args:
        keys: the image keys (``H x W x C`` arrays), with their paths under ``<key>_path``.
    """

    def __init__(self, keys: Sequence[str] = ('img_mosaic', 'img_gt')):
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        sizes = {key: tuple(results[key].shape[:2]) for key in self.keys}
        expected = tuple(results.get('ori_shape') or sizes[self.keys[0]])
        wrong = {key: size for key, size in sizes.items() if size != expected}
        if wrong:
            files = ', '.join(f'{results.get(f"{key}_path", key)} is {size[1]}x{size[0]}'
                              for key, size in sizes.items())
            raise ValueError(f'image pair of size mismatch (annotation says '
                             f'{expected[1]}x{expected[0]}): {files}')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'
