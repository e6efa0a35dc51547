# The tiny CPU config with strength-robust training (RandomPixelate after the face-aware crop).
_base_ = ['./rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py']

train_pipeline = _base_.load_pair + [
    dict(type='FaceAwareCrop', keys=_base_.pair_keys, crop_size=_base_.crop_size),
    dict(type='RandomPixelate', key='img_mosaic', source_key='img_gt', block_range=(4, 32),
         jpeg_quality_range=(60, 95), jpeg_prob=0.5),
    dict(type='Flip', keys=_base_.pair_keys, flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', keys=_base_.pair_keys, meta_keys=_base_.meta_keys),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
