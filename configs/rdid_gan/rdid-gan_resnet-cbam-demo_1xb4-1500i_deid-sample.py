# The demo's RDID-GAN (tools/demo.sh): small enough to train on 2 CPU cores in a few minutes, long
# enough to restore the faces it trains on better than the mosaic (README.md beside this file has
# the measurements): the tiny networks (8 base channels, 2 residual blocks, CBAM), 64x64 crops
# around the faces, batch 4, the paper's learning rate (0.002) for the first half and a linear
# decay to 0 in the second (as CycleGAN and Pix2Pix train), 1500 iterations.
# One image of the builder output is held out (subset='train' / 'val', seeded): the demo restores
# it too and reports it apart, since a model trained on a handful of faces has not learnt faces.
_base_ = ['./rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py']

model = dict(buffer_size=8)

held_out = dict(subset='val', num_val_images=1, split_seed=0)
train_dataloader = dict(
    batch_size=4,
    dataset=dict(subset='train', num_val_images=1, split_seed=0))
val_dataloader = dict(dataset=held_out)
test_dataloader = val_dataloader

max_iters = 1500
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
optim_wrapper = dict(
    generators=dict(optimizer=dict(lr=2e-3)), discriminators=dict(optimizer=dict(lr=2e-3)))
# tools/demo.py --iters N moves begin / end with N
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin=max_iters // 2, end=max_iters)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1, save_best=None, save_last=True))
randomness = dict(seed=1)
