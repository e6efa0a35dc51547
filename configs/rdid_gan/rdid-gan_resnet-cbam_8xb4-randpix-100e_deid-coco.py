# Strength-robust RDID-GAN: the entry config (configs/rdid_gan_coco.py) with every training crop
# re-pixelated at random (block 4-32 px, builder/mean/sampled styles, random grid offsets, boxes
# grown up to 1.6x, JPEG 60-95 half of the time), so one model restores third-party mosaics
# (e.g. deface's) found by tools/locate_mosaics.py. Validation and test keep the builder's fixed
# strengths, so Table 1 rows stay comparable.
_base_ = ['../rdid_gan_coco.py']

random_pixelate = dict(type='RandomPixelate', key='img_mosaic', source_key='img_gt',
                       block_range=(4, 32), styles=('builder', 'mean', 'sample'),
                       box_scale_range=(1.0, 1.6), jpeg_quality_range=(60, 95), jpeg_prob=0.5)
train_pipeline = _base_.load_pair + [
    dict(type='FaceAwareCrop', keys=_base_.pair_keys, crop_size=_base_.crop_size),
    random_pixelate,
    dict(type='Flip', keys=_base_.pair_keys, flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', keys=_base_.pair_keys, meta_keys=_base_.meta_keys),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
