# mmagic's CycleGAN as a baseline on de-identified COCO: networks and losses from mmagic's own base
# (ResNet generator, PatchGAN, LSGAN, cycle weight 10; identity weight 0 as in mmagic's "id0"
# configs), optimiser as mmagic's CycleGAN configs (Adam 2e-4, betas (0.5, 0.999), linear decay
# over the second half). Replaced: data (the paired builder output, used without its pairing by
# CycleGAN's losses), evaluators (mmagic's TransFID/TransIS download Inception weights when
# built) and the test path: CycleGANBaseline is mmagic's CycleGAN with rdid_mm's restore interface
# (full resolution, reflect padding to a multiple of 4, cropped back, generator in eval mode).
_base_ = [
    'mmagic::_base_/models/base_cyclegan.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-4_linear-decay_100e_bs32.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='CycleGANBaseline',
    _scope_='rdid_mm',
    loss_config=dict(cycle_loss_weight=10., id_loss_weight=0.),
    default_domain='gt',
    reachable_domains=['gt', 'mosaic'],
    related_domains=['gt', 'mosaic'],
    data_preprocessor=dict(pad_size_divisor=4, data_keys=None))
