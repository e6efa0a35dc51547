# The builder's output (rdid_mm.deid.build_deid_dataset / tools/build_deid_dataset.py), one folder
# per COCO split: <data_root>/<split>/{gt,mosaic/s{S},annotations/person_keypoints.json,faces.json}
# (paths: rdid_mm/layout.py). Images are RGB, 0..255; the data preprocessor maps them to [-1, 1].
#
# Stated once: `data_root`, `train_split`, `test_split` and `strengths` are not copied into the
# datasets below (MMEngine would substitute this file's values, so a child's could not reach
# them). The loops (RDIDIterBasedTrainLoop, RDIDValLoop, RDIDTestLoop) fill every dataset from
# them when they build it, under any Runner: a child config that sets `strengths = [16]` or
# `data_root = '...'` changes every dataloader. The evaluators follow their dataloader (no ann_file
# here: DetectorAPMetric reads the dataset's; the val and test loops refuse one that differs).
dataset_type = 'DeidPairedDataset'
data_root = 'data/deid_coco'
train_split = 'train2017'  # training, and the held-out validation images
test_split = 'val2017'  # Table 1
strengths = [8]
# Model selection uses a validation split held out from the training images (a seeded choice of
# image ids); Table 1 is reported on val2017 only, through the test dataloader.
num_val_images = 500

crop_size = (256, 256)
pair_keys = ['img_mosaic', 'img_gt']
meta_keys = ['img_id', 'ori_shape', 'face_boxes', 'gt_path', 'mosaic_path', 'strength']

# Decoded by the project's one decoder, as the builder and every evaluation row decode them
# (rdid_mm.utils.io.read_image: pixels as stored, no EXIF rotation, 16-bit/LA/palette to 8-bit RGB
# the same way), so a mosaic equals its original pixel for pixel outside the face boxes.
load_pair = [
    dict(type='LoadRGBImage', key='img_mosaic'),
    dict(type='LoadRGBImage', key='img_gt'),
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
whole_image_dataset = dict(type=dataset_type, test_mode=True, pipeline=test_pipeline)
val_dataloader = dict(
    **whole_image_loader,
    dataset=dict(**whole_image_dataset, subset='val', num_val_images=num_val_images))
test_dataloader = dict(**whole_image_loader, dataset=dict(**whole_image_dataset))

# MMEngine's ValLoop and TestLoop filling their datasets as above (the metrics are plain
# BaseMetrics, not mmagic GenMetrics).
val_cfg = dict(type='RDIDValLoop')
test_cfg = dict(type='RDIDTestLoop')
# Keypoint R-CNN with torchvision's COCO_V1 weights (downloaded on a connected machine; a local
# state_dict file works too: detector=dict(weights='path/to/keypointrcnn.pth')).
detector = dict(weights='torchvision')
# With several strengths, each is scored on its own (coco/s8/kpt_AP, ...) and the unqualified
# names that save_best reads are those of `select_strength` (default: the smallest).
val_evaluator = [
    dict(type='DetectorAPMetric', pred_key='fake_gt', detector=detector),
    dict(type='FaceRegionQualityMetric', pred_key='fake_gt'),
]
test_evaluator = [
    dict(type='DetectorAPMetric', pred_key='fake_gt', detector=detector),
    dict(type='FaceRegionQualityMetric', pred_key='fake_gt'),
]

# The GT and Mosaic rows of the validation split are scored once, at the start of training, and
# logged beside every validation result (default_runtime keeps the best checkpoint by kpt_AP).
custom_hooks = [
    dict(type='RestorationVisHook', interval=1, max_samples=4),
    dict(type='ReferenceRowsHook'),
]
