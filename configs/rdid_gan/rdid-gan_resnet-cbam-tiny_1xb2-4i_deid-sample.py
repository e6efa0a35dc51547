# A tiny RDID-GAN for CPU tests and smoke runs: 8 base channels, 2 residual blocks, 64x64 crops,
# batch 2, 4 iterations with validation and a checkpoint every 2. Point the three dataloaders at a
# builder output folder (e.g. the de-identified COCO sample).
_base_ = ['./rdid-gan_resnet-cbam_8xb4-lr2e-4-100e_deid-coco.py']

data_root = 'data/deid_sample'  # one builder output folder, used for every split
train_split = None
test_split = None
cbam = dict(type='CBAM', reduction=4, min_hidden_channels=4)
model = dict(
    generator=dict(base_channels=8, num_blocks=2, cbam_cfg=cbam),
    discriminator=dict(base_channels=8, num_conv=2, cbam_cfg=cbam),
    buffer_size=4)

train_pipeline = _base_.load_pair + [
    dict(type='FaceAwareCrop', keys=_base_.pair_keys, crop_size=(64, 64)),
    dict(type='Flip', keys=_base_.pair_keys, flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', keys=_base_.pair_keys, meta_keys=_base_.meta_keys),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(subset='all', pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, dataset=dict(subset='all'))
test_dataloader = val_dataloader
# No Keypoint R-CNN here (its COCO weights are downloaded; tests score AP separately), so no
# best-by-AP checkpoint and no reference rows.
val_evaluator = [dict(type='FaceRegionQualityMetric', pred_key='fake_gt')]
test_evaluator = val_evaluator
custom_hooks = [dict(type='RestorationVisHook', interval=1, max_samples=4)]

max_iters = 4
train_cfg = dict(max_iters=max_iters, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False, begin=2, end=4)
]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=2, save_best=None))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(opencv_num_threads=1))
