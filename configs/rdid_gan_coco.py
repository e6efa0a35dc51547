# RDID-GAN on de-identified COCO with the paper's settings: 100 epochs at a global batch of 32,
# whatever the number of GPUs (the per-GPU batch is 32 / GPUs; the log states the global batch):
#   python tools/train.py configs/rdid_gan_coco.py               # 1 GPU, 32 per GPU
#   bash tools/dist_train.sh configs/rdid_gan_coco.py 4          # 4 GPUs, 8 per GPU
#   bash tools/dist_train.sh configs/rdid_gan_coco.py 8          # 8 GPUs, 4 per GPU
# Our recommended variant (CycleGAN's 2e-4 schedule):
#   configs/rdid_gan/rdid-gan_resnet-cbam_8xb4-lr2e-4-100e_deid-coco.py
_base_ = ['rdid_gan/rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py']
