# The paper's preprocessing: whole images resized to 256x256 for training (instead of native-
# resolution crops around a face). Resizing shrinks the mosaic blocks by the resize factor while
# the test images are full size, so this is an option, not the default.
_base_ = ['./rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py']

train_dataloader = dict(dataset=dict(pipeline=_base_.resize_train_pipeline))
