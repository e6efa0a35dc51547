# mmagic's Pix2Pix as a baseline on de-identified COCO: networks and losses from mmagic's own base
# (U-Net generator with 8 downsamplings, PatchGAN on (input, output) pairs, vanilla GAN loss, pixel
# L1 weight 100), optimiser as mmagic's Pix2Pix configs (Adam 2e-4, betas (0.5, 0.999), constant).
# The model is mmagic's Pix2Pix with rdid_mm's restore interface (Pix2PixBaseline): full
# resolution, reflect padding to a multiple of 2**8 = 256 (the U-Net's divisor), cropped back, and
# the generator in eval mode: unlike mmagic's test, which runs in train mode (dropout and batch
# statistics), see docs/models.md. Also replaced: data and evaluators (no TransFID/TransIS: they
# download Inception weights).
_base_ = [
    'mmagic::_base_/models/base_pix2pix.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-4_linear-decay_100e_bs32.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='Pix2PixBaseline',
    _scope_='rdid_mm',
    default_domain='gt',
    reachable_domains=['gt'],
    related_domains=['gt', 'mosaic'],
    data_preprocessor=dict(pad_size_divisor=256, data_keys=None))
param_scheduler = []
