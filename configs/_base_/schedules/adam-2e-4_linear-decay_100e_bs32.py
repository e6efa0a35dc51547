# CycleGAN's schedule fitted to 100 epochs: Adam 2e-4, betas (0.5, 0.999); constant for the first
# 50 epochs, then linear decay to 0 (CycleGAN: 100 + 100 epochs; mmagic's CycleGAN configs: the
# same in iterations). Global batch 32.
#
# Epochs, not iterations: RDIDIterBasedTrainLoop builds the training set when the Runner starts and
# trains ceil(len(training set) / 32) iterations per epoch (the log says how many); the decay's
# begin/end are epochs converted with that number (convert_to_iter_based). The per-GPU batch is
# 32 / number of GPUs: 32 on 1 GPU, 8 on 4, 4 on 8 (an error where 32 does not divide; set
# train_dataloader.batch_size to choose the per-GPU batch yourself).
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
    generators=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=50,
        end=100,
        convert_to_iter_based=True)
]
