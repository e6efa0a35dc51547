# RDID-GAN with the paper's settings: ResNet generator and PatchGAN with CBAM, lambdas 1/10/10,
# Adam lr 0.002 as published, a global batch of 32 on any number of GPUs (8 x 4, 4 x 8 or 1 x 32:
# the per-GPU batch is derived), 100 epochs of the training set the Runner builds (the log gives
# the iterations per epoch). Training crops are 256x256 at native resolution around a face;
# validation and test restore whole images at full resolution.
# Not the paper: the adversarial loss is LSGAN (CycleGAN's, for stability; the model base says
# why); the paper's log-likelihood loss is rdid-gan_resnet-cbam-vanilla-gan_8xb4-100e_deid-coco.py.
_base_ = [
    '../_base_/models/rdid_gan_resnet_cbam.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-3_100e_bs32.py',
    '../_base_/default_runtime.py',
]
