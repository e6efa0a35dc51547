"""The resumable stream: positioned by arithmetic, one global order whatever the rank count."""
import itertools

import numpy as np

from rdid_mm.datasets import PerSampleSeedDataset, ResumableInfiniteSampler


def take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def on_rank(rank, world_size, **kwargs):
    sampler = ResumableInfiniteSampler(range(10), seed=3, **kwargs)
    sampler.rank, sampler.world_size = rank, world_size
    return sampler


def test_each_epoch_is_a_permutation_and_epochs_differ():
    items = take(on_rank(0, 1), 30)
    epochs = [[index for index, _ in items[i:i + 10]] for i in (0, 10, 20)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert epochs[0] != epochs[1]
    assert len({seed for _, seed in items}) == 30  # every sample has its own seed


def test_set_start_equals_skipping_without_iterating():
    sampler = on_rank(0, 1)
    full = take(sampler, 25)
    sampler.set_start(17)
    assert take(sampler, 8) == full[17:]


def test_two_ranks_split_the_single_rank_stream_batch_by_batch():
    single = take(on_rank(0, 1), 12)  # 3 iterations at a global batch of 4
    ranks = [take(on_rank(r, 2), 6) for r in (0, 1)]  # 2 ranks x 2 per GPU
    for it in range(3):
        global_batch = sorted(ranks[0][2 * it:2 * it + 2] + ranks[1][2 * it:2 * it + 2])
        assert global_batch == sorted(single[4 * it:4 * it + 4])
    # a resumed rank continues its own share
    resumed = on_rank(1, 2)
    resumed.set_start(4)
    assert take(resumed, 2) == ranks[1][4:6]


def test_len_is_the_samples_of_one_epoch_on_this_rank():
    assert len(ResumableInfiniteSampler(range(10), seed=0)) == 10
    assert len(ResumableInfiniteSampler(range(10), seed=0, samples_per_epoch=6)) == 6


class _RandomDataset:
    metainfo = {'domains': ('mosaic', 'gt')}

    def __len__(self):
        return 5

    def __getitem__(self, index):
        return index, np.random.randint(1 << 30)


def test_per_sample_seed_gives_the_same_draw_and_leaves_the_global_rng_alone():
    dataset = PerSampleSeedDataset(_RandomDataset())
    np.random.seed(0)
    first = dataset[(3, 1234)]
    after = np.random.get_state()[1].copy()
    np.random.seed(99)
    np.random.random()
    assert dataset[(3, 1234)] == first  # whatever the global state was
    assert dataset[(3, 4321)] != first
    np.random.seed(0)
    dataset[(3, 1234)]
    assert np.array_equal(np.random.get_state()[1], after)  # unchanged by loading
    assert dataset.metainfo == {'domains': ('mosaic', 'gt')} and len(dataset) == 5
