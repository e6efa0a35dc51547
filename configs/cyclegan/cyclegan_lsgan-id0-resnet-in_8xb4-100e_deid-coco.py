# mmagic's CycleGAN as a baseline on de-identified COCO: networks and losses from mmagic's own base
# (_base_/models/cyclegan_baseline.py), optimiser as mmagic's CycleGAN configs (Adam 2e-4, betas
# (0.5, 0.999), linear decay over the second half). Replaced: data (the paired builder output,
# used without its pairing by CycleGAN's losses), evaluators (mmagic's TransFID/TransIS download
# Inception weights when built) and the test path (CycleGANBaseline).
_base_ = [
    '../_base_/models/cyclegan_baseline.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-4_linear-decay_100e_bs32.py',
    '../_base_/default_runtime.py',
]
