# The paper's schedule as published: Adam, learning rate 0.002 for both networks, 100 epochs at a
# global batch of 32, no decay.
#
# Epochs, not iterations: RDIDIterBasedTrainLoop builds the training set when the Runner starts and
# trains ceil(len(training set) / 32) iterations per epoch (len: the samples the dataset yields
# after the face filter and the held-out validation images, one per image and strength; the log says
# how many). The per-GPU batch is 32 / number of GPUs: 32 on 1 GPU, 8 on 4, 4 on 8 (an error where
# 32 does not divide; set train_dataloader.batch_size to choose the per-GPU batch yourself, and the
# global batch becomes batch_size x GPUs). max_iters overrides max_epochs (then val_interval counts
# iterations too).
train_cfg = dict(
    type='RDIDIterBasedTrainLoop',
    max_epochs=100,
    global_batch_size=32,
    val_begin=1,
    val_interval=5)  # epochs

# The learning rate was set for a global batch of 32; --auto-scale-lr (tools/train.py) scales it
# linearly with the real global batch; without it, a different global batch gives a warning.
auto_scale_lr = dict(enable=False, base_batch_size=32)

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=0.002, betas=(0.5, 0.999))))
param_scheduler = []
