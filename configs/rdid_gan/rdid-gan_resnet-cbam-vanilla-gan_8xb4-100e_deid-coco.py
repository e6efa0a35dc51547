# RDID-GAN with the paper's settings and the paper's adversarial loss: the log-likelihood
# (vanilla GAN) loss of its equation 1, binary cross-entropy on the discriminator's logits
# (mmagic's GANLoss, gan_type='vanilla'). Everything else as in
# rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py, which (like the entry config) keeps CycleGAN's
# least-squares loss for training stability; docs/models.md, "Adversarial loss", says why.
_base_ = ['rdid-gan_resnet-cbam_8xb4-100e_deid-coco.py']
model = dict(gan_loss=dict(type='GANLoss', gan_type='vanilla', loss_weight=1.0))
