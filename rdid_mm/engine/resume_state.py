"""What a rank needs besides weights and optimisers to continue a run exactly: RNGs and image
buffers.

MMEngine saves no RNG state, and mmagic's ``GANImageBuffer`` (the pool of past fakes the
discriminator sees, filled through the global ``np.random``) is a plain list outside every
state_dict. Both differ per rank, so each rank writes its own state file beside the checkpoint
(see :class:`rdid_mm.engine.RDIDRunner`), as tensors and plain types (``weights_only`` loadable).
"""
import random
from contextlib import contextmanager

import numpy as np
import torch


def capture_rng_state() -> dict:
    """The torch (CPU and CUDA), numpy and python RNG states as tensors and plain values."""
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        numpy=dict(name=np_state[0], keys=torch.from_numpy(np_state[1].astype(np.int64)),
                   pos=int(np_state[2]), has_gauss=int(np_state[3]),
                   cached_gaussian=float(np_state[4])),
        python=dict(version=py_version, internal=torch.tensor(py_internal, dtype=torch.int64),
                    gauss_next=py_gauss),
        cuda=[])
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: dict) -> None:
    """Set every RNG to a state from :func:`capture_rng_state`."""
    torch.set_rng_state(state['torch'].cpu())
    np_state = state['numpy']
    np.random.set_state((np_state['name'], np_state['keys'].numpy().astype(np.uint32),
                         np_state['pos'], np_state['has_gauss'], np_state['cached_gaussian']))
    python = state['python']
    random.setstate((python['version'], tuple(int(v) for v in python['internal'].tolist()),
                     python['gauss_next']))
    if state.get('cuda') and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextmanager
def forked_rng():
    """Run a block (validation) without shifting the RNG streams training continues with."""
    state = capture_rng_state()
    try:
        yield state
    finally:
        restore_rng_state(state)


def image_buffers_of(model) -> dict:
    """The GAN image buffers of an mmagic CycleGAN-style model (``model.image_buffers``), or {}."""
    buffers = getattr(model, 'image_buffers', None)
    return dict(buffers) if isinstance(buffers, dict) else {}


def capture_image_buffers(model) -> dict:
    """Each buffer's filled images (N, C, H, W, on the CPU) and fill count."""
    out = {}
    for domain, buffer in image_buffers_of(model).items():
        if getattr(buffer, 'buffer_size', 0) <= 0:
            continue
        images = [img.detach().cpu() for img in buffer.image_buffer]
        out[domain] = dict(
            img_num=int(buffer.img_num),
            images=torch.cat(images, 0) if images else torch.zeros(0))
    return out


def restore_image_buffers(model, state: dict, device=None) -> None:
    """Refill the model's image buffers from :func:`capture_image_buffers` output."""
    buffers = image_buffers_of(model)
    for domain, saved in state.items():
        if domain not in buffers:
            raise KeyError(f'the checkpoint has an image buffer for domain {domain!r}, the model '
                           f'has {sorted(buffers)}')
        buffer = buffers[domain]
        images = saved['images'].to(device) if device is not None else saved['images']
        buffer.image_buffer = [images[i:i + 1] for i in range(images.shape[0])]
        buffer.img_num = int(saved['img_num'])
