# CycleGAN's schedule fitted to 100 epochs: Adam 2e-4, betas (0.5, 0.999); constant for the first
# half, then linear decay to 0 (CycleGAN: 100 + 100 epochs; mmagic's CycleGAN configs: the same in
# iterations). Total batch 32 (8 GPUs x 4).
#
# 100 epochs expressed in iterations (the loop is iteration-based, as in mmagic):
#   max_iters = ceil(N / total_batch) * epochs = ceil(64115 / 32) * 100 = 2004 * 100 = 200400
# with N = 64115, the COCO train2017 images with a person annotation, times len(strengths) = 1.
epochs = 100
total_batch_size = 32
num_train_samples = 64115
iters_per_epoch = (num_train_samples + total_batch_size - 1) // total_batch_size
max_iters = iters_per_epoch * epochs

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=max_iters // 2,
        end=max_iters)
]

train_cfg = dict(by_epoch=False, max_iters=max_iters, val_begin=1, val_interval=5 * iters_per_epoch)
