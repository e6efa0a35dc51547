"""RDID-GAN: mmagic's CycleGAN plus a paired L1 ("dist") loss (paper, Section 3.3)."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmagic.models.editors.cyclegan import CycleGAN
from mmagic.structures import DataSample

from rdid_mm.registry import MODELS
from .face_paste import paste_face_regions

SOURCE_DOMAIN = 'mosaic'
TARGET_DOMAIN = 'gt'


@MODELS.register_module()
class RDIDGAN(CycleGAN):
    """CycleGAN between the ``mosaic`` and ``gt`` domains, trained with paired images.

    Kept from mmagic's ``CycleGAN``: the two generators and discriminators, the GAN image
    buffers, the training step (generator forwards, discriminator update, generator update) and
    its separate optimisers. Changed:

    - the generator loss adds ``dist_loss`` (``|y - G(x)| + |x - F(y)|``); the adversarial,
      cycle and identity terms are loss modules from the config (LSGAN or vanilla GAN);
    - no identity forward passes unless ``id_loss`` has a non-zero weight;
    - validation and test translate ``mosaic -> gt`` only, per image at full resolution: the
      input is padded to a multiple of ``test_pad_divisor`` and the output cropped back; with
      ``paste_to_face_boxes=True`` the output equals the input outside the sample's
      ``face_boxes`` and the restored image inside them;
    - the test forward keeps the module's mode (mmagic's ``CycleGAN`` switches to ``train()``):
      with instance norm and no dropout both modes compute the same, and a BatchNorm configured
      anywhere then uses its running statistics, not those of the test batch.

    Val/test outputs are DataSamples with the input sample's fields (``img_id``, ``ori_shape``,
    ``face_boxes``, paths, ``strength``, ``img_mosaic``, ``img_gt``) plus ``fake_gt``: a float
    tensor (3, H, W) in the input's channel order (RGB) and range (0..255).

    Args:
        generator, discriminator, data_preprocessor: as in mmagic's ``CycleGAN``.
        gan_loss: adversarial loss (``dict(type='GANLoss', gan_type='lsgan' | 'vanilla')``).
        dist_loss: paired L1 loss config or None.
        cycle_loss: cycle-consistency loss config.
        id_loss: identity loss config or None.
        paste_to_face_boxes: keep the input outside the face boxes at val/test.
        test_pad_divisor: pad val/test inputs to a multiple of this (4: two stride-2 layers).
        test_pad_mode: ``F.pad`` mode for that padding (``'reflect'``; ``'replicate'`` is used
            where the image is too small to reflect).
        buffer_size: size of the GAN image buffers.
        default_domain, reachable_domains, related_domains: must be ``'gt'`` and
            ``['gt', 'mosaic']``; accepted so that mmagic-style configs can set them.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: Optional[dict],
                 data_preprocessor: dict,
                 gan_loss: dict = dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
                 dist_loss: Optional[dict] = dict(type='DistLoss', loss_weight=10.0),
                 cycle_loss: dict = dict(type='CycleLoss', loss_weight=10.0),
                 id_loss: Optional[dict] = None,
                 paste_to_face_boxes: bool = False,
                 test_pad_divisor: int = 4,
                 test_pad_mode: str = 'reflect',
                 buffer_size: int = 50,
                 default_domain: str = TARGET_DOMAIN,
                 reachable_domains: Sequence[str] = (TARGET_DOMAIN, SOURCE_DOMAIN),
                 related_domains: Sequence[str] = (TARGET_DOMAIN, SOURCE_DOMAIN),
                 **kwargs):
        domains = {TARGET_DOMAIN, SOURCE_DOMAIN}
        if (default_domain != TARGET_DOMAIN or set(reachable_domains) != domains
                or set(related_domains) != domains):
            raise ValueError(
                f"RDIDGAN translates between 'mosaic' and 'gt': default_domain must be 'gt' and "
                f"reachable/related domains ['gt', 'mosaic'], got {default_domain!r}, "
                f'{list(reachable_domains)}, {list(related_domains)}')
        if test_pad_divisor < 1:
            raise ValueError(f'test_pad_divisor must be >= 1, got {test_pad_divisor}')
        super().__init__(
            generator,
            discriminator,
            default_domain=default_domain,
            reachable_domains=list(reachable_domains),
            related_domains=list(related_domains),
            data_preprocessor=data_preprocessor,
            buffer_size=buffer_size,
            **kwargs)
        self.gan_loss = MODELS.build(gan_loss)
        self.cycle_loss = MODELS.build(cycle_loss)
        self.dist_loss = None if dist_loss is None else MODELS.build(dist_loss)
        self.id_loss = None if id_loss is None else MODELS.build(id_loss)
        self.loss_config = dict(
            gan_loss_weight=self.gan_loss.loss_weight,
            dist_loss_weight=self._weight(self.dist_loss),
            cycle_loss_weight=self._weight(self.cycle_loss),
            id_loss_weight=self._weight(self.id_loss))
        self.paste_to_face_boxes = paste_to_face_boxes
        self.test_pad_divisor = test_pad_divisor
        self.test_pad_mode = test_pad_mode

    @staticmethod
    def _weight(loss_module) -> float:
        return 0.0 if loss_module is None else float(loss_module.loss_weight)

    # ------------------------------------------------------------------ training losses
    def _get_disc_loss(self, outputs: dict):
        """Discriminator loss: 0.5 * (fake + real) per domain, fakes from the image buffer."""
        discriminators = self.get_module(self.discriminators)
        log_vars_d = dict()
        loss_d = 0
        for domain in self._reachable_domains:
            fake_img = self.image_buffers[domain].query(outputs[f'fake_{domain}'])
            fake_pred = discriminators[domain](fake_img.detach())
            real_pred = discriminators[domain](outputs[f'real_{domain}'])
            losses = {
                f'loss_gan_d_{domain}_fake': self.gan_loss(fake_pred, False, is_disc=True),
                f'loss_gan_d_{domain}_real': self.gan_loss(real_pred, True, is_disc=True),
            }
            _loss_d, _log_vars_d = self.parse_losses(losses)
            loss_d += 0.5 * _loss_d
            log_vars_d[f'loss_gan_d_{domain}'] = _log_vars_d['loss'] * 0.5
        return loss_d, log_vars_d

    def _get_gen_loss(self, outputs: dict):
        """Generator loss: adversarial + dist + cycle (+ identity when its weight is not 0)."""
        discriminators = self.get_module(self.discriminators)
        losses = dict()
        for domain in self._reachable_domains:
            fake_pred = discriminators[domain](outputs[f'fake_{domain}'])
            losses[f'loss_gan_g_{domain}'] = self.gan_loss(fake_pred, True, is_disc=False)
        losses['cycle_loss'] = self.cycle_loss(
            *[(outputs[f'cycle_{domain}'], outputs[f'real_{domain}'])
              for domain in self._reachable_domains])
        if self.dist_loss is not None:
            losses['dist_loss'] = self.dist_loss(
                (outputs[f'fake_{TARGET_DOMAIN}'], outputs[f'real_{TARGET_DOMAIN}']),
                (outputs[f'fake_{SOURCE_DOMAIN}'], outputs[f'real_{SOURCE_DOMAIN}']))
        if self._weight(self.id_loss) != 0.0:
            generators = self.get_module(self.generators)
            pairs = []
            for domain in self._reachable_domains:
                identity = generators[domain](outputs[f'real_{domain}'])
                outputs[f'identity_{domain}'] = identity
                pairs.append((identity, outputs[f'real_{domain}']))
            losses['id_loss'] = self.id_loss(*pairs)
        return self.parse_losses(losses)

    # ------------------------------------------------------------------ restoration
    def restore_tensor(self, img: torch.Tensor) -> torch.Tensor:
        """``G(img)`` for normalised images (N, C, H, W) of any size: pad, translate, crop."""
        height, width = img.shape[-2:]
        divisor = self.test_pad_divisor
        pad_h = (-height) % divisor
        pad_w = (-width) % divisor
        if pad_h or pad_w:
            mode = self.test_pad_mode
            if mode == 'reflect' and (pad_h >= height or pad_w >= width):
                mode = 'replicate'
            img = F.pad(img, (0, pad_w, 0, pad_h), mode=mode)
        fake = self.translation(img, target_domain=TARGET_DOMAIN)
        return fake[..., :height, :width]

    def forward_test(self, img: torch.Tensor, target_domain: str, **kwargs) -> dict:
        """Translate ``img`` at full resolution, in the module's current mode."""
        if target_domain != TARGET_DOMAIN:
            target = self.translation(img, target_domain=target_domain, **kwargs)
        else:
            target = self.restore_tensor(img)
        return dict(source=img, target=target)

    def val_step(self, data: dict) -> List[DataSample]:
        """Restore every image of the batch; see the class docstring for the outputs."""
        return self._restore_batch(data)

    def test_step(self, data: dict) -> List[DataSample]:
        """Same as :meth:`val_step`."""
        return self._restore_batch(data)

    def _restore_batch(self, data: dict) -> List[DataSample]:
        data = self.data_preprocessor(data)
        inputs = data['inputs'][f'img_{SOURCE_DOMAIN}']
        data_samples = data['data_samples']
        samples = data_samples.split() if data_samples is not None else [
            DataSample() for _ in range(inputs.shape[0])]
        outputs = []
        for idx, sample in enumerate(samples):
            height, width = self._unpadded_size(inputs[idx], sample)
            source = inputs[idx:idx + 1, :, :height, :width]
            fake = self.forward_test(source, target_domain=TARGET_DOMAIN)['target'][0]
            fake = self.data_preprocessor.destruct(fake, None)
            if self.paste_to_face_boxes:
                fake = paste_face_regions(
                    self._source_image(source[0], sample), fake, sample.get('face_boxes', []))
            out = DataSample()
            out.update(sample)
            out.set_tensor_data({f'fake_{TARGET_DOMAIN}': fake})
            outputs.append(out)
        return outputs

    @staticmethod
    def _unpadded_size(img: torch.Tensor, sample: DataSample):
        """(H, W) of the image before the data preprocessor padded the batch."""
        height, width = img.shape[-2:]
        padding = sample.metainfo.get('padding_size')
        if padding is None:
            return height, width
        return height - int(padding[-2]), width - int(padding[-1])

    def _source_image(self, source: torch.Tensor, sample: DataSample) -> torch.Tensor:
        """The input image in 0..255: the sample's copy if it carries one, else de-normalised."""
        original = sample.get(f'img_{SOURCE_DOMAIN}')
        if isinstance(original, torch.Tensor) and original.shape == source.shape:
            return original.to(source.device, torch.float32)
        return self.data_preprocessor.destruct(source, None)
