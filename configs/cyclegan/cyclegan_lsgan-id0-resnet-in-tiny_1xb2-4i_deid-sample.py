# A tiny CycleGAN for CPU tests: 8 base channels, 2 residual blocks, 64x64 crops, batch 2,
# 4 iterations with validation and a checkpoint every 2.
_base_ = [
    '../_base_/models/cyclegan_baseline.py',
    '../_base_/datasets/deid_sample_tiny.py',
    '../_base_/schedules/adam-2e-4_linear-decay_4i.py',
    '../_base_/tiny_runtime.py',
]

model = dict(
    generator=dict(base_channels=8, num_blocks=2),
    discriminator=dict(base_channels=8, num_conv=2),
    buffer_size=4)
