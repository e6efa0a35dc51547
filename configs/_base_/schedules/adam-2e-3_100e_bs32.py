# The paper's schedule as published: Adam, learning rate 0.002 for both networks, 100 epochs at a
# total batch of 32 (8 GPUs x 4), no decay.
#
# 100 epochs expressed in iterations (the loop is iteration-based, as in mmagic):
#   max_iters = ceil(N / total_batch) * epochs = ceil(64115 / 32) * 100 = 2004 * 100 = 200400
# with N = 64115, the COCO train2017 images with a person annotation, times len(strengths) = 1.
# The face filter (filter_cfg=dict(require_faces=True)) keeps fewer: recompute with the number the
# Runner logs for the training dataset when your split differs.
epochs = 100
total_batch_size = 32
num_train_samples = 64115
iters_per_epoch = (num_train_samples + total_batch_size - 1) // total_batch_size
max_iters = iters_per_epoch * epochs

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0.5, 0.999))))
param_scheduler = []

train_cfg = dict(by_epoch=False, max_iters=max_iters, val_begin=1, val_interval=5 * iters_per_epoch)
