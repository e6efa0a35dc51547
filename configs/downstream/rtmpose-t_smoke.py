# A few iterations of RTMPose-t on CPU: the downstream smoke test. Numbers it produces measure
# nothing but the plumbing.
_base_ = './rtmpose-t_8xb256-420e_deid-256x192.py'

max_iters = 2
codec = dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
             normalize=False, use_dark=False)

# no ImageNet download: the smoke starts from random weights, seeded
model = dict(backbone=dict(init_cfg=None), test_cfg=dict(flip_test=False))
randomness = dict(seed=0)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
param_scheduler = []
custom_hooks = []
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False)
