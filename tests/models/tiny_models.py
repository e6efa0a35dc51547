"""Tiny RDID-GAN and CycleGAN model configs shared by the model tests."""

CBAM = dict(type='CBAM', reduction=4, min_hidden_channels=4)


def tiny_rdid_gan_cfg(**overrides):
    cfg = dict(
        type='RDIDGAN',
        data_preprocessor=dict(type='DataPreprocessor', data_keys=None),
        generator=dict(type='RDIDResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=8, num_blocks=2, cbam_cfg=CBAM),
        discriminator=dict(type='AttnPatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=2, cbam_cfg=CBAM),
        buffer_size=4)
    cfg.update(overrides)
    return cfg


def tiny_cyclegan_cfg(**overrides):
    cfg = dict(
        type='CycleGAN',
        data_preprocessor=dict(type='DataPreprocessor', data_keys=None),
        generator=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=8, num_blocks=2),
        discriminator=dict(type='PatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=2, norm_cfg=dict(type='IN')),
        default_domain='gt', reachable_domains=['gt', 'mosaic'],
        related_domains=['gt', 'mosaic'], buffer_size=4,
        loss_config=dict(cycle_loss_weight=10., id_loss_weight=0.))
    cfg.update(overrides)
    return cfg
