# A tiny RDID-GAN for CPU tests and smoke runs: 8 base channels, 2 residual blocks, 64x64 crops,
# batch 2, 4 iterations with validation and a checkpoint every 2. A child sets `data_root` to a
# builder output folder (e.g. the de-identified COCO sample).
_base_ = [
    '../_base_/models/rdid_gan_resnet_cbam.py',
    '../_base_/datasets/deid_sample_tiny.py',
    '../_base_/schedules/adam-2e-4_linear-decay_4i.py',
    '../_base_/tiny_runtime.py',
]

cbam = dict(type='CBAM', reduction=4, min_hidden_channels=4)
model = dict(
    generator=dict(base_channels=8, num_blocks=2, cbam_cfg=cbam),
    discriminator=dict(base_channels=8, num_conv=2, cbam_cfg=cbam),
    buffer_size=4)
