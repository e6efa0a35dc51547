# Ours, not the paper's: RDID-GAN with CycleGAN's learning-rate schedule (Adam 2e-4, constant for
# 50 epochs, then linear decay to 0) in place of the published 0.002. Everything else as in
# rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py. Recommended: 0.002 is ten times what
# CycleGAN-family GANs are usually trained with.
_base_ = [
    '../_base_/models/rdid_gan_resnet_cbam.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-4_linear-decay_100e_bs32.py',
    '../_base_/default_runtime.py',
]
