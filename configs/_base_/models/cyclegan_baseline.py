# mmagic's CycleGAN (its own model base: ResNet generator, PatchGAN, LSGAN, cycle weight 10) with
# identity weight 0, as mmagic's "id0" configs; CycleGANBaseline adds rdid_mm's restore interface
# (full resolution, reflect padding to a multiple of 4, cropped back, generator in eval mode).
_base_ = ['mmagic::_base_/models/base_cyclegan.py']

model = dict(
    type='CycleGANBaseline',
    _scope_='rdid_mm',
    loss_config=dict(cycle_loss_weight=10., id_loss_weight=0.),
    default_domain='gt',
    reachable_domains=['gt', 'mosaic'],
    related_domains=['gt', 'mosaic'],
    data_preprocessor=dict(pad_size_divisor=4, data_keys=None))
