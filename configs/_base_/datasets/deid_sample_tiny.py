# The CPU tests' data: one builder output folder (e.g. the de-identified COCO sample) for every
# split, 64x64 crops around a face, batch 2, no worker processes. No Keypoint R-CNN (its COCO
# weights are downloaded; tests score AP separately), so no reference rows either.
_base_ = ['./deid_coco.py']

data_root = 'data/deid_sample'  # a child sets its own folder here
train_split = None
test_split = None

crop_size = (64, 64)
train_pipeline = _base_.load_pair + [
    dict(type='FaceAwareCrop', keys=_base_.pair_keys, crop_size=crop_size),
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
val_evaluator = [dict(type='FaceRegionQualityMetric', pred_key='fake_gt')]
test_evaluator = val_evaluator
custom_hooks = [dict(type='RestorationVisHook', interval=1, max_samples=4)]
