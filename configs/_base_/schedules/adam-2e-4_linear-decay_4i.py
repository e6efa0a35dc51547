# The CPU tests' schedule: CycleGAN's optimiser (Adam 2e-4), 4 iterations, validation every 2,
# the learning rate decaying linearly to 0 over the last 2.
_base_ = ['./adam-2e-4_linear-decay_100e_bs32.py']

max_iters = 4
train_cfg = dict(max_iters=max_iters, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False, begin=2, end=4)
]
