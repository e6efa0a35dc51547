"""The paired de-identification dataset, its transforms and samplers; importing this registers
them."""
import mmagic.datasets  # noqa: F401  (registers mmagic's datasets)
import mmagic.datasets.transforms  # noqa: F401  (LoadImageFromFile, Flip, PackInputs)

from .deid_paired_dataset import DeidPairedDataset
from .per_sample_seed_dataset import PerSampleSeedDataset
from .samplers import ResumableInfiniteSampler
from .transforms import CheckPairedImages, FaceAwareCrop, LoadRGBImage, RandomPixelate

__all__ = [
    'DeidPairedDataset', 'PerSampleSeedDataset', 'ResumableInfiniteSampler', 'CheckPairedImages',
    'FaceAwareCrop', 'LoadRGBImage', 'RandomPixelate'
]
