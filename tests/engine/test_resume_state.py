"""Per-rank resume state: RNG streams and GAN image buffers continue exactly after a restore."""
import random

import numpy as np
import torch

from rdid_mm.engine.resume_state import (
    capture_image_buffers,
    capture_rng_state,
    forked_rng,
    restore_image_buffers,
    restore_rng_state,
)


def draws():
    return (torch.rand(3).tolist(), np.random.random(3).tolist(), np.random.normal(),
            [random.random() for _ in range(3)], random.gauss(0, 1))


def test_rng_state_restore_continues_every_stream(tmp_path):
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    np.random.normal()  # leaves a cached gaussian in numpy's state
    random.gauss(0, 1)
    state = capture_rng_state()
    path = str(tmp_path / 'rng.pth')
    torch.save(state, path)
    expected = draws()
    draws()
    restore_rng_state(torch.load(path, weights_only=True))
    assert draws() == expected


def test_forked_rng_leaves_the_streams_where_they_were():
    torch.manual_seed(2)
    np.random.seed(2)
    random.seed(2)
    state = capture_rng_state()
    expected = draws()
    restore_rng_state(state)
    with forked_rng():
        draws()
    assert draws() == expected


class _Model:
    def __init__(self):
        from mmagic.models.editors.cyclegan.cyclegan_modules import GANImageBuffer
        self.image_buffers = {'gt': GANImageBuffer(3), 'mosaic': GANImageBuffer(3)}


def test_image_buffers_restore_and_answer_the_same_queries():
    original = _Model()
    torch.manual_seed(0)
    for _ in range(2):
        for buffer in original.image_buffers.values():
            buffer.query(torch.rand(2, 3, 4, 4))
    state = capture_image_buffers(original)
    assert state['gt']['img_num'] == 3 and state['gt']['images'].shape == (3, 3, 4, 4)
    restored = _Model()
    restore_image_buffers(restored, state)
    query = torch.rand(2, 3, 4, 4)
    np.random.seed(5)
    a = {d: b.query(query) for d, b in original.image_buffers.items()}
    np.random.seed(5)
    b = {d: b.query(query) for d, b in restored.image_buffers.items()}
    for domain in a:
        assert torch.equal(a[domain], b[domain])
    assert all(torch.equal(x, y) for x, y in zip(original.image_buffers['gt'].image_buffer,
                                                 restored.image_buffers['gt'].image_buffer))
