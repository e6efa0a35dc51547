# RDID-GAN (paper, Sections 3.2-3.3): CycleGAN's ResNet generator and 70x70 PatchGAN with CBAM,
# paired "dist" L1 and cycle L1 with weights 1 / 10 / 10, no identity loss.
# Adversarial loss: LSGAN (least squares), CycleGAN's choice, kept here for training stability;
# a deliberate departure from the paper, whose equation 1 writes the log-likelihood (vanilla GAN)
# loss. The paper's loss: configs/rdid_gan/rdid-gan_resnet-cbam-vanilla-gan_8xb4-100e_deid-coco.py.
model = dict(
    type='RDIDGAN',
    data_preprocessor=dict(type='DataPreprocessor', mean=127.5, std=127.5, data_keys=None),
    generator=dict(
        type='RDIDResnetGenerator',
        in_channels=3,
        out_channels=3,
        base_channels=64,
        norm_cfg=dict(type='IN'),
        use_dropout=False,
        num_blocks=9,
        padding_mode='reflect',
        cbam_cfg=dict(type='CBAM', reduction=16, min_hidden_channels=8),
        cbam_positions=('stem', 'down', 'res'),
        init_cfg=dict(type='normal', gain=0.02)),
    discriminator=dict(
        type='AttnPatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_conv=3,
        norm_cfg=dict(type='IN'),
        cbam_cfg=dict(type='CBAM', reduction=16, min_hidden_channels=8),
        init_cfg=dict(type='normal', gain=0.02)),
    gan_loss=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    dist_loss=dict(type='DistLoss', loss_weight=10.0),
    cycle_loss=dict(type='CycleLoss', loss_weight=10.0),
    id_loss=None,
    buffer_size=50,
    test_pad_divisor=4,
    paste_to_face_boxes=False,
    default_domain='gt',
    reachable_domains=['gt', 'mosaic'],
    related_domains=['gt', 'mosaic'])
