"""Pix2PixBaseline: mmagic's Pix2Pix whose test step works (mmagic 1.2.0's fails)."""
import pytest
import torch

from rdid_mm.registry import MODELS

PIX2PIX = dict(
    data_preprocessor=dict(type='DataPreprocessor', data_keys=None, pad_size_divisor=32),
    generator=dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=5,
                   base_channels=8, norm_cfg=dict(type='BN'), use_dropout=True),
    discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=8, num_conv=2,
                       norm_cfg=dict(type='BN')),
    default_domain='gt', reachable_domains=['gt'], related_domains=['gt', 'mosaic'])


def batch():
    from mmagic.structures import DataSample
    images = [torch.randint(0, 256, (3, 30, 44), dtype=torch.uint8) for _ in range(2)]
    return dict(inputs=dict(img_mosaic=images, img_gt=images),
                data_samples=[DataSample(metainfo=dict(img_id=i)) for i in range(2)])


def test_mmagic_pix2pix_test_step_still_fails(rdid_scope):
    model = MODELS.build(dict(PIX2PIX, type='Pix2Pix'))
    with pytest.raises(TypeError, match='not subscriptable'):
        model.test_step(batch())


def test_baseline_test_step_restores_and_crops_back(rdid_scope):
    model = MODELS.build(dict(PIX2PIX, type='Pix2PixBaseline'))
    outputs = model.test_step(batch())
    assert [out.img_id for out in outputs] == [0, 1]
    assert all(out.fake_gt.shape == (3, 30, 44) for out in outputs)
