# A tiny Pix2Pix for CPU tests: a U-Net with 5 downsamplings (test padding to a multiple of
# 2**5 = 32), 8 base channels, 64x64 crops, batch 2, 4 iterations with validation and a checkpoint
# every 2, a constant learning rate. (mmagic's num_down=8 fails below 256x256: its 1x1 bottleneck
# has one value per channel.)
_base_ = [
    '../_base_/models/pix2pix_baseline.py',
    '../_base_/datasets/deid_sample_tiny.py',
    '../_base_/schedules/adam-2e-4_linear-decay_4i.py',
    '../_base_/tiny_runtime.py',
]

model = dict(
    generator=dict(num_down=5, base_channels=8),
    discriminator=dict(base_channels=8, num_conv=2),
    data_preprocessor=dict(pad_size_divisor=32))
param_scheduler = []
