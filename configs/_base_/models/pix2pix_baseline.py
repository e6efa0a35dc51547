# mmagic's Pix2Pix (its own model base: U-Net generator with 8 downsamplings, PatchGAN on (input,
# output) pairs, vanilla GAN loss, pixel L1 weight 100). Pix2PixBaseline adds rdid_mm's restore
# interface: full resolution, reflect padding to a multiple of 2**8 = 256 (the U-Net's divisor),
# cropped back, and the generator in eval mode: unlike mmagic's test, which runs in train mode
# (dropout and batch statistics), see docs/models.md.
_base_ = ['mmagic::_base_/models/base_pix2pix.py']

model = dict(
    type='Pix2PixBaseline',
    _scope_='rdid_mm',
    default_domain='gt',
    reachable_domains=['gt'],
    related_domains=['gt', 'mosaic'],
    data_preprocessor=dict(pad_size_divisor=256, data_keys=None))
