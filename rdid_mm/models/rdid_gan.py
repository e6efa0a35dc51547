"""RDID-GAN: mmagic's CycleGAN plus a paired L1 ("dist") loss (paper, Section 3.3)."""
from typing import Optional, Sequence

from mmagic.models.editors.cyclegan import CycleGAN

from rdid_mm.registry import MODELS

from .restorers import SOURCE_DOMAIN, TARGET_DOMAIN, RestoreMixin


@MODELS.register_module()
class RDIDGAN(RestoreMixin, CycleGAN):
    """CycleGAN between the ``mosaic`` and ``gt`` domains, trained with paired images.

    Kept from mmagic's ``CycleGAN``: the two generators and discriminators, the GAN image
    buffers, the training step (generator forwards, discriminator update, generator update) and
    its separate optimisers. Changed:

    - the generator loss adds ``dist_loss`` (``|y - G(x)| + |x - F(y)|``); the adversarial,
      cycle and identity terms are loss modules from the config (LSGAN or vanilla GAN);
    - no identity forward passes unless ``id_loss`` has a non-zero weight;
    - validation, test and restoration are those of every rdid_mm model
      (:class:`~rdid_mm.models.restorers.RestoreMixin`): ``mosaic -> gt`` only, per image at
      full resolution, reflect-padded to a multiple of ``test_pad_divisor`` and cropped back, the
      generator in eval mode (mmagic's ``CycleGAN`` switches to ``train()``); with
      ``paste_to_face_boxes=True`` the output equals the input outside the sample's
      ``face_boxes`` and the restored image inside them.

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
