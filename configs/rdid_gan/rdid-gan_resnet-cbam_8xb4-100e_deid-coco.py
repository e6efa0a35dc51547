# RDID-GAN with the paper's settings: ResNet generator and PatchGAN with CBAM, lambdas 1/10/10,
# Adam lr 0.002 as published, batch 32 in total (8 GPUs x 4), 100 epochs (200400 iterations; the
# formula is in the schedule). Training crops are 256x256 at native resolution around a face;
# validation and test restore whole images at full resolution.
_base_ = [
    '../_base_/models/rdid_gan_resnet_cbam.py',
    '../_base_/datasets/deid_coco.py',
    '../_base_/schedules/adam-2e-3_100e_bs32.py',
    '../_base_/default_runtime.py',
]
