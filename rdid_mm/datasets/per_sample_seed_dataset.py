"""A dataset wrapper that runs each sample's pipeline under RNGs seeded for that sample."""
import random

import numpy as np
import torch

from rdid_mm.registry import DATASETS


@DATASETS.register_module()
class PerSampleSeedDataset:
    """Wrap a dataset so that item ``(index, seed)`` is ``dataset[index]`` drawn with ``seed``.

    numpy's, python's and torch's (CPU) global RNGs are seeded with ``seed`` while the wrapped
    dataset loads and augments the sample (``FaceAwareCrop``, ``Flip`` and the refetch of a failed
    sample all draw from them), then restored, so loading in the main process (``num_workers=0``)
    does not shift training randomness and worker processes need no state of their own. A plain
    int index loads without seeding. Every other attribute is the wrapped dataset's.

    Args:
        dataset: the dataset to wrap (built, or a config dict).
    """

    def __init__(self, dataset):
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getattr__(self, name):
        if name == 'dataset' or name.startswith('__'):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, item):
        if not isinstance(item, tuple):
            return self.dataset[item]
        index, seed = item
        np_state, py_state = np.random.get_state(), random.getstate()
        torch_state = torch.get_rng_state()
        try:
            np.random.seed(seed)
            random.seed(seed)
            torch.random.default_generator.manual_seed(seed)
            return self.dataset[index]
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
            torch.set_rng_state(torch_state)
