"""One restore interface for every mmagic translation model (RDID-GAN, CycleGAN, Pix2Pix, ...).

Every model is tested, evaluated and used for restoration the same way, at full resolution:
the pixelated image (``img_mosaic``) is padded to a multiple of the network's divisor with reflect
padding, translated to the ``gt`` domain by the generator in eval mode, and cropped back.

Eval mode is a change for mmagic's models: ``CycleGAN.forward_test`` and ``Pix2Pix.forward_test``
switch the whole model to ``train()`` (pix2pix's "test with dropout and batch statistics" trick).
With instance norm and no dropout (CycleGAN, RDID-GAN) both modes compute the same; for Pix2Pix's
U-Net (batch norm, dropout) eval mode uses the running statistics and no dropout, so each output
depends on its own image only and is deterministic.

Val/test restore in one of two modes (``restore_mode``, see :func:`sample_restore_mode`): a model
trained on face crops restores each face box with 50% context and pastes it back, exactly as the
restore loop (``tools/restore.py``, Table 1's model rows) does (:func:`restore_regions` through
:func:`model_restorer`); a model trained on whole images restores the whole image.

:class:`RestoreMixin` gives a model class ``restore_tensor``, ``forward_test``, ``val_step`` and
``test_step``; :func:`as_restorer` gives them to an already built mmagic translation model (a
config that names mmagic's own ``CycleGAN`` or ``Pix2Pix``), and refuses any other model with a
:class:`NotARestorerError` naming it.
"""
import types
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmagic.models.base_models import BaseTranslationModel
from mmagic.structures import DataSample

from .face_paste import paste_face_regions
from .layers.winograd_conv import winograd_convolutions
from .region_restore import Restorer, restore_regions
from .restore_mode import MODES, REGION, WHOLE, default_mode

SOURCE_DOMAIN = 'mosaic'
TARGET_DOMAIN = 'gt'


class NotARestorerError(ValueError):
    """A model that cannot restore pixelated images (the message names it)."""


@contextmanager
def eval_mode(module: torch.nn.Module):
    """Run the block with ``module`` in eval mode, then restore the mode of every submodule.

    A model already in eval mode (the restore loop's) is left alone: switching a generator of a
    few hundred modules back and forth took 5 % of a region-mode run's time.
    """
    modes = {m: m.training for m in module.modules()}
    if not any(modes.values()):
        yield
        return
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes.items():
            submodule.training = training


def pad_divisor(model) -> int:
    """The multiple the input sides are padded to: ``test_pad_divisor``, else the data
    preprocessor's ``pad_size_divisor``, else 1."""
    divisor = getattr(model, 'test_pad_divisor', None)
    if not divisor:
        divisor = getattr(getattr(model, 'data_preprocessor', None), 'pad_size_divisor', None)
    return max(1, int(divisor or 1))


def uses_winograd(model, device: torch.device) -> bool:
    """Whether ``model`` restores with Winograd 3x3 convolutions on ``device``: on the CPU,
    unless its ``winograd`` is False (:mod:`rdid_mm.models.layers.winograd_conv`: the same
    outputs within float rounding, 4x fewer multiplications in the residual blocks)."""
    return torch.device(device).type == 'cpu' and getattr(model, 'winograd', True)


def restore_tensor(model, img: torch.Tensor, pad_mode: str = 'reflect') -> torch.Tensor:
    """``G(img)`` for normalised images (N, C, H, W) of any size: pad, translate in eval mode,
    crop back."""
    height, width = img.shape[-2:]
    divisor = pad_divisor(model)
    pad_h, pad_w = (-height) % divisor, (-width) % divisor
    if pad_h or pad_w:
        mode = pad_mode
        if mode == 'reflect' and (pad_h >= height or pad_w >= width):
            mode = 'replicate'  # reflect padding needs a side longer than the padding
        img = F.pad(img, (0, pad_w, 0, pad_h), mode=mode)
    with eval_mode(model), winograd_convolutions(model, uses_winograd(model, img.device)):
        fake = model.translation(img, target_domain=TARGET_DOMAIN)
    return fake[..., :height, :width]


def _unpadded_size(img: torch.Tensor, sample: DataSample):
    """(H, W) of the image before the data preprocessor padded the batch."""
    height, width = img.shape[-2:]
    padding = sample.metainfo.get('padding_size')
    if padding is None:
        return height, width
    return height - int(padding[-2]), width - int(padding[-1])


def _source_image(model, source: torch.Tensor, sample: DataSample) -> torch.Tensor:
    """The input image in 0..255: the sample's copy if it carries one, else de-normalised."""
    original = sample.get(f'img_{SOURCE_DOMAIN}')
    if isinstance(original, torch.Tensor) and original.shape == source.shape:
        return original.to(source.device, torch.float32)
    return model.data_preprocessor.destruct(source, None)


def sample_restore_mode(model) -> str:
    """The mode ``model``'s val/test steps restore in: its ``restore_mode`` if set (the engine's
    eval loops and :func:`rdid_mm.apis.test` set it from the config: ``'region'`` for a model
    trained on face crops), else that of the config :func:`rdid_mm.restore.generator.init_model`
    attached (``model.cfg``), else ``'whole'``."""
    mode = getattr(model, 'restore_mode', None)
    if mode is None:
        cfg = getattr(model, 'cfg', None)
        mode = default_mode(cfg) if cfg is not None else WHOLE
    if mode not in MODES:
        raise ValueError(f'restore_mode must be one of {MODES} or None, got {mode!r}')
    return mode


def _restore_regions_of(model, source: torch.Tensor, boxes) -> torch.Tensor:
    """Region mode for one image (3, H, W) in 0..255: the restore loop's crops, restorer and
    paste (:func:`restore_regions`), back as a float tensor; no boxes: the input."""
    image = source.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    boxes = [list(map(float, box)) for box in (boxes if boxes is not None else [])]
    if boxes:
        image = restore_regions([np.ascontiguousarray(image)], [boxes], model_restorer(model))[0]
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).to(
        source.device, torch.float32)


def restore_samples(model, data: dict, paste_to_face_boxes: bool = False,
                    mode: Optional[str] = None) -> List[DataSample]:
    """Restore every image of a batch; DataSamples with the input's fields plus ``fake_gt``
    (float, (3, H, W), the input's channel order and range: RGB 0..255).

    ``mode`` (default :func:`sample_restore_mode`): ``'region'`` restores the sample's
    ``face_boxes`` as the restore loop does (the input, rounded to uint8, elsewhere and for a
    sample without boxes); ``'whole'`` the whole image, then with ``paste_to_face_boxes`` only
    the pixels inside the face boxes are kept.

    Each image is preprocessed and restored on its own, at its own size: a batch of images of
    different sizes works (mmagic's ``DataSample.stack`` cannot stack their ``img_*`` copies),
    and an output never depends on the other images of its batch.
    """
    mode = sample_restore_mode(model) if mode is None else mode
    inputs, samples = data.get('inputs'), data.get('data_samples')
    if isinstance(inputs, dict) and isinstance(samples, (list, tuple)) and len(samples) > 1:
        outputs = []
        for index in range(len(samples)):
            one = dict(inputs={key: value[index:index + 1] for key, value in inputs.items()},
                       data_samples=samples[index:index + 1])
            outputs += restore_samples(model, one, paste_to_face_boxes, mode)
        return outputs
    data = model.data_preprocessor(data)
    inputs = data['inputs']
    if not isinstance(inputs, dict) or f'img_{SOURCE_DOMAIN}' not in inputs:
        raise KeyError(f'{type(model).__name__}: the batch has no img_{SOURCE_DOMAIN} input')
    inputs = inputs[f'img_{SOURCE_DOMAIN}']
    data_samples = data['data_samples']
    samples = data_samples.split() if data_samples is not None else [
        DataSample() for _ in range(inputs.shape[0])]
    outputs = []
    for idx, sample in enumerate(samples):
        height, width = _unpadded_size(inputs[idx], sample)
        source = inputs[idx:idx + 1, :, :height, :width]
        if mode == REGION:
            fake = _restore_regions_of(model, _source_image(model, source[0], sample),
                                       sample.get('face_boxes', []))
            out = DataSample()
            out.update(sample)
            out.set_tensor_data({f'fake_{TARGET_DOMAIN}': fake})
            outputs.append(out)
            continue
        fake = restore_tensor(model, source, getattr(model, 'test_pad_mode', 'reflect'))[0]
        fake = model.data_preprocessor.destruct(fake, None)
        if paste_to_face_boxes:
            fake = paste_face_regions(_source_image(model, source[0], sample), fake,
                                      sample.get('face_boxes', []))
        out = DataSample()
        out.update(sample)
        out.set_tensor_data({f'fake_{TARGET_DOMAIN}': fake})
        outputs.append(out)
    return outputs


class RestoreMixin:
    """The restore interface for a ``BaseTranslationModel`` subclass (listed first in the bases).

    Args (keyword, besides the model's own):
        paste_to_face_boxes: whole-image val/test outputs equal the input outside the sample's
            face boxes (region mode always does).
        restore_mode: ``'region'``, ``'whole'`` or None (the default: set from the config by the
            engine's eval loops and ``tools/test.py``; see :func:`sample_restore_mode`).
        test_pad_divisor: pad to a multiple of this (default: the data preprocessor's
            ``pad_size_divisor``).
        test_pad_mode: ``F.pad`` mode of that padding (``'reflect'``).
        winograd: on the CPU, restore with Winograd 3x3 convolutions (see
            :func:`uses_winograd`); False: torch's direct convolutions.
    """

    paste_to_face_boxes = False
    test_pad_divisor = None
    test_pad_mode = 'reflect'
    restore_mode = None
    winograd = True

    def __init__(self, *args, paste_to_face_boxes: bool = False,
                 test_pad_divisor: Optional[int] = None, test_pad_mode: str = 'reflect',
                 restore_mode: Optional[str] = None, winograd: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if test_pad_divisor is not None and test_pad_divisor < 1:
            raise ValueError(f'test_pad_divisor must be >= 1, got {test_pad_divisor}')
        if restore_mode is not None and restore_mode not in MODES:
            raise ValueError(f'restore_mode must be one of {MODES} or None, got {restore_mode!r}')
        self.restore_mode = restore_mode
        self.paste_to_face_boxes = paste_to_face_boxes
        self.test_pad_divisor = test_pad_divisor
        self.test_pad_mode = test_pad_mode
        self.winograd = winograd

    def restore_tensor(self, img: torch.Tensor) -> torch.Tensor:
        """``G(img)`` for normalised images (N, C, H, W): pad, translate in eval mode, crop."""
        return restore_tensor(self, img, self.test_pad_mode)

    def forward_test(self, img: torch.Tensor, target_domain: str, **kwargs) -> dict:
        """Translate ``img`` at full resolution in eval mode (mmagic switches to train mode)."""
        if target_domain == TARGET_DOMAIN:
            return dict(source=img, target=self.restore_tensor(img))
        with eval_mode(self):
            return dict(source=img, target=self.translation(img, target_domain=target_domain,
                                                            **kwargs))

    def val_step(self, data: dict) -> List[DataSample]:
        """Restore every image of the batch at full resolution, in region or whole-image mode
        (see :func:`restore_samples`)."""
        return restore_samples(self, data, self.paste_to_face_boxes)

    def test_step(self, data: dict) -> List[DataSample]:
        """Same as :meth:`val_step`."""
        return restore_samples(self, data, self.paste_to_face_boxes)


def as_restorer(model, paste_to_face_boxes: Optional[bool] = None, where: str = ''):
    """``model`` with the restore interface (given to an mmagic translation model that lacks it).

    Raises:
        NotARestorerError: the model is not an mmagic translation model with a ``gt`` generator.
    """
    name = type(model).__name__
    source = f' ({where})' if where else ''
    if not isinstance(model, BaseTranslationModel):
        raise NotARestorerError(
            f'{name}{source} cannot restore images: tools/test.py, eval_table.py and restore.py '
            'need an mmagic translation model (BaseTranslationModel: RDIDGAN, CycleGAN, Pix2Pix, '
            "...) translating 'mosaic' to 'gt'")
    if not model.is_domain_reachable(TARGET_DOMAIN):
        raise NotARestorerError(
            f"{name}{source} has no generator for the 'gt' domain (reachable domains: "
            f"{list(model._reachable_domains)}); set reachable_domains=['gt', ...] and "
            "related_domains=['gt', 'mosaic'] in its config")
    if not isinstance(model, RestoreMixin):
        for method in ('restore_tensor', 'forward_test', 'val_step', 'test_step'):
            setattr(model, method, types.MethodType(getattr(RestoreMixin, method), model))
        for attr in ('paste_to_face_boxes', 'test_pad_divisor', 'test_pad_mode', 'restore_mode',
                     'winograd'):
            if attr not in vars(model):
                setattr(model, attr, getattr(RestoreMixin, attr))
    if paste_to_face_boxes is not None:
        model.paste_to_face_boxes = bool(paste_to_face_boxes)
    return model


def restoring_generator_prefix(model) -> str:
    """The state_dict prefix of the generator that restores (``generators.gt.``)."""
    return f'generators.{TARGET_DOMAIN}.'


def check_rgb(image: np.ndarray) -> None:
    """Refuse anything but an ``H x W x 3`` uint8 array (a grey or float image would be
    restored silently wrong)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}')


def model_restorer(model: torch.nn.Module, batch_size: int = 8,
                   workers: Optional[int] = None) -> Restorer:
    """A function restoring a list of ``H x W x 3`` uint8 RGB arrays with ``model``.

    The model's own restore interface (:func:`restore_tensor`: pad, translate in eval
    mode, crop) on tensors normalised by its data preprocessor; arrays of the same shape (region
    mode pads face crops to a few bucket sizes) are batched together, ``batch_size`` at a time.
    Runs under any autocast the caller opened.

    On the CPU, ``workers`` threads (default: torch's intra-op thread count) restore different
    batches at once with one intra-op thread each: a batch of small crops keeps one core busy,
    while two OpenMP threads splitting one small convolution wait for each other at every layer
    (and much longer on a loaded machine). Each output depends on its own input only, so the
    result is the same for any ``workers`` and ``batch_size`` (within float rounding).

    On the CPU the model's 3x3 convolutions run as Winograd F(4x4, 3x3) unless its ``winograd``
    is False (:func:`uses_winograd`), switched on once here for all threads, as by
    :func:`restore_tensor` for a single call: both give the same pixels.
    """
    model = as_restorer(model)
    device = next(model.parameters()).device
    preprocessor = model.data_preprocessor
    if workers is None:
        workers = torch.get_num_threads() if device.type == 'cpu' else 1
    workers = max(1, int(workers))

    @torch.no_grad()
    def restore_batch(batch: np.ndarray) -> np.ndarray:
        source = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device).float()
        normalised = (source - preprocessor.mean) / preprocessor.std
        restored = model.restore_tensor(normalised).float()
        restored = restored * preprocessor.std + preprocessor.mean
        return restored.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    def restore_batch_one_thread(batch: np.ndarray) -> np.ndarray:
        torch.set_num_threads(1)  # this thread's; restored for new threads after the pool
        return restore_batch(batch)

    def restore(images: Sequence[np.ndarray]) -> List[np.ndarray]:
        for image in images:
            check_rgb(image)
        by_shape = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        chunks = [indices[start:start + batch_size] for indices in by_shape.values()
                  for start in range(0, len(indices), batch_size)]
        batches = [np.stack([images[i] for i in chunk]) for chunk in chunks]
        # autocast and grad mode are thread-local: threads only where no autocast is open
        threaded = (workers > 1 and len(batches) > 1
                    and not torch.is_autocast_enabled(device.type))
        # once here: the threads must not switch modes or classes under each other
        with eval_mode(model), winograd_convolutions(model, uses_winograd(model, device)):
            if threaded:
                threads = torch.get_num_threads()
                try:
                    with ThreadPoolExecutor(min(workers, len(batches))) as pool:
                        results = list(pool.map(restore_batch_one_thread, batches))
                finally:  # set_num_threads in a thread is also the default of threads to come
                    torch.set_num_threads(threads)
            else:
                results = [restore_batch(batch) for batch in batches]
        out: List[np.ndarray] = [None] * len(images)
        for chunk, restored in zip(chunks, results):
            for i, r in zip(chunk, restored):
                out[i] = r
        return out

    return restore
