# The builder's output (rdid_mm.deid.build_deid_dataset / tools/build_deid_dataset.py), one folder
# per COCO split: <root>/{gt,mosaic/s{S},annotations/person_keypoints.json,faces.json}.
# Images are RGB (channel_order='rgb'), 0..255; the data preprocessor maps them to [-1, 1].
dataset_type = 'DeidPairedDataset'
data_root = 'data/deid_coco'
train_data_root = data_root + '/train2017'
val_data_root = data_root + '/val2017'
strengths = [8]
# Model selection uses a validation split held out from the training images (a seeded choice of
# image ids); Table 1 is reported on val2017 only, through the test dataloader.
num_val_images = 500

crop_size = (256, 256)
pair_keys = ['img_mosaic', 'img_gt']
meta_keys = ['img_id', 'ori_shape', 'face_boxes', 'gt_path', 'mosaic_path', 'strength']

# Decoded as the builder decodes them (PIL, pixels as stored: the EXIF orientation is not applied),
# so a mosaic equals its original pixel for pixel outside the face boxes.
load_pair = [
    dict(type='LoadImageFromFile', key='img_mosaic', color_type='color_ignore_orientation',
         channel_order='rgb', imdecode_backend='pillow'),
    dict(type='LoadImageFromFile', key='img_gt', color_type='color_ignore_orientation',
         channel_order='rgb', imdecode_backend='pillow'),
    dict(type='CheckPairedImages', keys=pair_keys),
]
# Training: 256x256 crops at native resolution, each containing a face box, flipped together.
train_pipeline = load_pair + [
    dict(type='FaceAwareCrop', keys=pair_keys, crop_size=crop_size),
    dict(type='Flip', keys=pair_keys, flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', keys=pair_keys, meta_keys=meta_keys),
]
# The paper's alternative: the whole image resized to 256x256. It shrinks the mosaic blocks by
# the resize factor while the test images are full size, so it is not the default.
resize_train_pipeline = load_pair + [
    dict(type='Resize', keys=pair_keys, scale=crop_size, keep_ratio=False,
         interpolation='bicubic'),
    dict(type='Flip', keys=pair_keys, flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', keys=pair_keys, meta_keys=meta_keys),
]
# Validation and test: whole images at full resolution (one per batch: sizes differ).
test_pipeline = load_pair + [
    dict(type='PackInputs', keys=pair_keys, meta_keys=meta_keys, data_keys=pair_keys),
]

# No batch_size: the per-GPU batch is the schedule's global batch / number of GPUs (see
# schedules/). ResumableInfiniteSampler: an endless shuffled stream that a resumed run enters at
# the first unseen sample, each sample with its own augmentation seed.
train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=train_data_root,
        strengths=strengths,
        filter_cfg=dict(require_faces=True),
        subset='train',
        num_val_images=num_val_images,
        pipeline=train_pipeline))
# Validation and test: whole images at full resolution, one per batch (their sizes differ).
whole_image_loader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
whole_image_dataset = dict(
    type=dataset_type, strengths=strengths, test_mode=True, pipeline=test_pipeline)
val_dataloader = dict(
    **whole_image_loader,
    dataset=dict(
        **whole_image_dataset,
        data_root=train_data_root,
        subset='val',
        num_val_images=num_val_images))
test_dataloader = dict(
    **whole_image_loader, dataset=dict(**whole_image_dataset, data_root=val_data_root))

# MMEngine's loops and evaluator (the metrics are plain BaseMetrics, not mmagic GenMetrics).
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Keypoint R-CNN with torchvision's COCO_V1 weights (downloaded on a connected machine; a local
# state_dict file works too: detector=dict(weights='path/to/keypointrcnn.pth')).
detector = dict(weights='torchvision')
val_evaluator = [
    dict(type='KeypointRCNNMetric', ann_file=train_data_root + '/annotations/person_keypoints.json',
         pred_key='fake_gt', detector=detector),
    dict(type='FaceRegionQualityMetric', pred_key='fake_gt'),
]
test_evaluator = [
    dict(type='KeypointRCNNMetric', ann_file=val_data_root + '/annotations/person_keypoints.json',
         pred_key='fake_gt', detector=detector),
    dict(type='FaceRegionQualityMetric', pred_key='fake_gt'),
]

# The GT and Mosaic rows of the validation split are scored once, at the start of training, and
# logged beside every validation result (default_runtime keeps the best checkpoint by kpt_AP).
custom_hooks = [
    dict(type='RestorationVisHook', interval=1, max_samples=4),
    dict(type='ReferenceRowsHook'),
]
