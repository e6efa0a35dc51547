# RDID-GAN on de-identified COCO with the paper's settings:
#   python tools/train.py configs/rdid_gan_coco.py
# Our recommended variant (CycleGAN's 2e-4 schedule):
#   configs/rdid_gan/rdid-gan_resnet-cbam_8xb4-lr2e-4-100e_deid-coco.py
_base_ = ['rdid_gan/rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py']
