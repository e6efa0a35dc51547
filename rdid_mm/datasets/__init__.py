"""The paired de-identification dataset and its transforms; importing this registers them."""
import mmagic.datasets  # noqa: F401  (registers mmagic's datasets)
import mmagic.datasets.transforms  # noqa: F401  (LoadImageFromFile, Flip, PackInputs)

from .deid_paired_dataset import DeidPairedDataset
from .transforms import CheckPairedImages, FaceAwareCrop, LoadRGBImage

__all__ = ['DeidPairedDataset', 'CheckPairedImages', 'FaceAwareCrop', 'LoadRGBImage']
