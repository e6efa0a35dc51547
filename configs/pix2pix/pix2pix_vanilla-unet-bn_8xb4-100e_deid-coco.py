# mmagic's Pix2Pix as a baseline on de-identified COCO: networks and losses from mmagic's own base
# (_base_/models/pix2pix_baseline.py), optimiser as mmagic's Pix2Pix configs (Adam 2e-4, betas
# (0.5, 0.999), constant). Also replaced: data and evaluators (no TransFID/TransIS: they download
# Inception weights).
_base_ = [
    '../_base_/models/pix2pix_baseline.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-4_linear-decay_100e_bs32.py',
    '../_base_/default_runtime.py',
]

param_scheduler = []
