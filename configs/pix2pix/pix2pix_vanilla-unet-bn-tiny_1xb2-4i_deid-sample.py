# A tiny Pix2Pix for CPU tests: a U-Net with 5 downsamplings (test padding to a multiple of
# 2**5 = 32), 8 base channels, 64x64 crops, batch 2, 4 iterations with validation and a checkpoint
# every 2. (mmagic's num_down=8 fails below 256x256: its 1x1 bottleneck has one value per channel.)
_base_ = ['./pix2pix_vanilla-unet-bn_8xb4-100e_deid-coco.py']

data_root = 'data/deid_sample'  # one builder output folder, used for every split
train_split = None
test_split = None
model = dict(
    generator=dict(num_down=5, base_channels=8),
    discriminator=dict(base_channels=8, num_conv=2),
    data_preprocessor=dict(pad_size_divisor=32))

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
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=2, save_best=None))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(opencv_num_threads=1))
