"""An infinite shuffled sampler that can start anywhere in its stream and seeds every sample."""
from typing import Iterator, Optional, Sized, Tuple

import numpy as np
import torch
from mmengine.dataset.sampler import InfiniteSampler
from mmengine.dist import get_dist_info, sync_random_seed

from rdid_mm.registry import DATA_SAMPLERS


def sample_seed(seed: int, position: int) -> int:
    """The seed of the sample at global ``position`` of a stream seeded with ``seed``."""
    return _derive(seed, 0, position)


def _derive(seed: int, purpose: int, value: int) -> int:
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, purpose, int(value)])
               .generate_state(1)[0])


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` stream, positioned by arithmetic instead of replay.

    One global stream of samples: epoch ``e`` is a permutation of the dataset seeded by
    ``(seed, e)``; global position ``p`` belongs to rank ``p % world_size`` (the ranks' batches at
    one iteration are consecutive positions, so the global batch is the same whatever the number of
    ranks). Each item is ``(index, sample_seed)``: the dataset index and a seed derived from
    ``(seed, p)``, which :class:`rdid_mm.datasets.PerSampleSeedDataset` uses for the sample's
    augmentation, so a worker process needs no RNG state of its own and a resumed run draws the
    same crops and flips as an uninterrupted one.

    Args:
        dataset: the dataset (its length).
        shuffle: shuffle each epoch.
        seed: the stream's seed (the same on every rank); a synchronised random one if None.
        samples_per_epoch: this rank's samples per epoch, reported by ``len()`` so that
            ``len(dataloader)`` is the number of iterations per epoch; the dataset length if None.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: Optional[int] = None,
                 samples_per_epoch: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.size = len(dataset)
        if self.size == 0:
            raise ValueError('ResumableInfiniteSampler: the dataset is empty')
        self.samples_per_epoch = samples_per_epoch
        self.start = 0

    def set_start(self, local_position: int) -> None:
        """Start the next iteration at this rank's ``local_position``-th sample of the stream."""
        self.start = int(local_position)

    def _permutation(self, epoch: int):
        if not self.shuffle:
            return list(range(self.size))
        generator = torch.Generator()
        generator.manual_seed(_derive(self.seed, 1, epoch))
        return torch.randperm(self.size, generator=generator).tolist()

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        position = self.rank + self.world_size * self.start
        epoch, order = None, None
        while True:
            if position // self.size != epoch:
                epoch = position // self.size
                order = self._permutation(epoch)
            yield order[position % self.size], sample_seed(self.seed, position)
            position += self.world_size

    def __len__(self) -> int:
        return self.size if self.samples_per_epoch is None else int(self.samples_per_epoch)
