"""RDIDGAN: CycleGAN's training step plus the dist loss; full-resolution val/test outputs."""
import mmcv
import numpy as np
import pytest
import torch
from mmengine import MessageHub
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict

import rdid_mm.models  # noqa: F401
from rdid_mm.registry import DATASETS, MODELS
from rdid_mm.utils.boxes import box_to_slices

from .tiny_models import tiny_cyclegan_cfg, tiny_rdid_gan_cfg

TEST_PIPELINE = [
    dict(type='LoadImageFromFile', key='img_mosaic', color_type='color_ignore_orientation',
         channel_order='rgb', imdecode_backend='pillow'),
    dict(type='LoadImageFromFile', key='img_gt', color_type='color_ignore_orientation',
         channel_order='rgb', imdecode_backend='pillow'),
    dict(type='CheckPairedImages'),
    dict(type='PackInputs', keys=['img_mosaic', 'img_gt'],
         meta_keys=['img_id', 'ori_shape', 'face_boxes', 'gt_path', 'mosaic_path', 'strength'],
         data_keys=['img_mosaic', 'img_gt']),
]


def optim_wrappers(model):
    return OptimWrapperDict(
        generators=OptimWrapper(torch.optim.Adam(model.generators.parameters(), lr=2e-4,
                                                 betas=(0.5, 0.999))),
        discriminators=OptimWrapper(torch.optim.Adam(model.discriminators.parameters(),
                                                     lr=2e-4, betas=(0.5, 0.999))))


def train_batch(size=32, batch_size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = lambda: [torch.randint(0, 256, (3, size, size), dtype=torch.uint8,  # noqa: E731
                                    generator=generator) for _ in range(batch_size)]
    return dict(inputs=dict(img_mosaic=images(), img_gt=images()))


def count_generator_forwards(model):
    calls = []
    for generator in model.generators.values():
        generator.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_equals_mmagic_cyclegan_when_dist_and_cbam_are_off(rdid_scope):
    """Same weights, same batch: one training step gives the same losses and the same weights."""
    MessageHub.get_current_instance().update_info('iter', 0)
    torch.manual_seed(0)
    ours = MODELS.build(tiny_rdid_gan_cfg(
        generator=dict(type='RDIDResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=8, num_blocks=2, cbam_cfg=None),
        discriminator=dict(type='AttnPatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=2, cbam_cfg=None),
        dist_loss=None, id_loss=dict(type='IdentityLoss', loss_weight=0.5)))
    ours.init_weights()
    theirs = MODELS.build(tiny_cyclegan_cfg(
        loss_config=dict(cycle_loss_weight=10., id_loss_weight=0.5)))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    log_ours = ours.train_step(train_batch(), optim_wrappers(ours))
    log_theirs = theirs.train_step(train_batch(), optim_wrappers(theirs))
    assert set(log_ours) == set(log_theirs)
    for key, value in log_theirs.items():
        # mmagic logs each discriminator loss at half the value it optimises: its `_loss_d *= 0.5`
        # also halves the tensor that parse_losses put in its log, which it then halves again.
        factor = 2.0 if key.startswith('loss_gan_d_') else 1.0
        assert log_ours[key].item() == pytest.approx(factor * value.item(), rel=1e-5), key
    for (name, p_ours), p_theirs in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(p_ours, p_theirs, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize('id_loss, expected_forwards', [
    (None, 4),
    (dict(type='IdentityLoss', loss_weight=0.0), 4),
    (dict(type='IdentityLoss', loss_weight=0.5), 6),
])
def test_identity_forwards_only_when_weighted(rdid_scope, id_loss, expected_forwards):
    MessageHub.get_current_instance().update_info('iter', 0)
    model = MODELS.build(tiny_rdid_gan_cfg(id_loss=id_loss))
    calls = count_generator_forwards(model)
    log_vars = model.train_step(train_batch(), optim_wrappers(model))
    assert len(calls) == expected_forwards
    assert ('id_loss' in log_vars) == (expected_forwards == 6)
    assert log_vars['dist_loss'] > 0


def test_mmagic_cyclegan_runs_identity_forwards_at_weight_zero(rdid_scope):
    """Why RDIDGAN overrides _get_gen_loss: mmagic's runs G(y), F(x) even when unused."""
    MessageHub.get_current_instance().update_info('iter', 0)
    model = MODELS.build(tiny_cyclegan_cfg())
    calls = count_generator_forwards(model)
    model.train_step(train_batch(), optim_wrappers(model))
    assert len(calls) == 6


def test_wrong_domains_are_refused(rdid_scope):
    with pytest.raises(ValueError, match="'mosaic' and 'gt'"):
        MODELS.build(tiny_rdid_gan_cfg(default_domain='mosaic'))


def test_restore_tensor_pads_to_a_multiple_of_4_and_crops_back(rdid_scope):
    torch.manual_seed(0)
    model = MODELS.build(tiny_rdid_gan_cfg()).eval()
    model.winograd = False  # the padding is under test: the same convolutions as `expected`
    img = torch.rand(1, 3, 37, 53) * 2 - 1
    with torch.no_grad():
        out = model.restore_tensor(img)
        padded = torch.nn.functional.pad(img, (0, 3, 0, 3), mode='reflect')
        expected = model.generators['gt'](padded)[..., :37, :53]
    assert out.shape == img.shape
    torch.testing.assert_close(out, expected)
    model.generators['gt'] = torch.nn.Identity()
    tiny = torch.rand(1, 3, 2, 3)  # too small to reflect-pad by 2 / 1: replicate instead
    assert torch.equal(model.restore_tensor(tiny), tiny)


def test_winograd_is_on_by_default_and_a_config_switches_it_off(rdid_scope):
    assert MODELS.build(tiny_rdid_gan_cfg()).winograd is True
    assert MODELS.build(tiny_rdid_gan_cfg(winograd=False)).winograd is False


@pytest.fixture(scope='module')
def val_samples(deid_sample):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dict(type='DeidPairedDataset', data_root=deid_sample,
                                      strengths=[16], test_mode=True, pipeline=TEST_PIPELINE))
        return [dataset[i] for i in range(len(dataset))]


def restore(model, sample):
    with torch.no_grad():
        return model.val_step(pseudo_collate([sample]))[0]


def test_val_outputs_follow_the_data_contract(rdid_scope, val_samples):
    torch.manual_seed(0)
    model = MODELS.build(tiny_rdid_gan_cfg()).eval()
    for sample in val_samples:
        out = restore(model, sample)
        height, width = out.ori_shape
        assert out.fake_gt.shape == (3, height, width)
        assert out.fake_gt.dtype == torch.float32
        assert 0 <= out.fake_gt.min() and out.fake_gt.max() <= 255
        assert isinstance(out.img_id, int)
        assert out.strength == 16
        assert out.gt_path.endswith('.jpg') and out.mosaic_path.endswith('.png')
        assert all(len(box) == 4 for box in out.face_boxes)
        assert out.img_gt.shape == out.img_mosaic.shape == (3, height, width)
    assert any(height % 4 for height, _ in (s['data_samples'].ori_shape for s in val_samples))


def test_paste_keeps_the_input_outside_the_face_boxes(rdid_scope, val_samples):
    torch.manual_seed(0)
    model = MODELS.build(tiny_rdid_gan_cfg()).eval()
    sample = next(s for s in val_samples if s['data_samples'].face_boxes)
    restored = restore(model, sample).fake_gt
    model.paste_to_face_boxes = True
    pasted = restore(model, sample).fake_gt
    mosaic_rgb = mmcv.imread(sample['data_samples'].mosaic_path, channel_order='rgb')
    mosaic = torch.from_numpy(np.ascontiguousarray(mosaic_rgb.transpose(2, 0, 1))).float()
    inside = torch.zeros(mosaic.shape[-2:], dtype=torch.bool)
    for box in sample['data_samples'].face_boxes:
        rows, cols = box_to_slices(box, *inside.shape)
        inside[rows, cols] = True
    assert inside.any() and not inside.all()
    assert torch.equal(pasted[:, ~inside], mosaic[:, ~inside])  # RGB, exactly the input
    assert torch.equal(pasted[:, inside], restored[:, inside])
    assert not torch.equal(restored[:, ~inside], mosaic[:, ~inside])


def test_region_mode_restores_each_face_box_as_the_restore_loop(rdid_scope, val_samples):
    """``restore_mode='region'``: the face boxes restored by :func:`restore_regions` through
    :func:`model_restorer` (the restore loop's calls), the input everywhere else."""
    from rdid_mm.models.region_restore import restore_regions
    from rdid_mm.models.restorers import model_restorer
    torch.manual_seed(0)
    model = MODELS.build(tiny_rdid_gan_cfg(restore_mode='region')).eval()
    for sample in val_samples:
        out = restore(model, sample).fake_gt
        mosaic = mmcv.imread(sample['data_samples'].mosaic_path, channel_order='rgb')
        expected = restore_regions([mosaic], [sample['data_samples'].face_boxes],
                                   model_restorer(model))[0]
        assert out.dtype == torch.float32
        assert torch.equal(out, torch.from_numpy(expected).permute(2, 0, 1).float())
    no_boxes = dict(val_samples[0], data_samples=val_samples[0]['data_samples'].clone())
    no_boxes['data_samples'].set_metainfo(dict(face_boxes=[]))
    mosaic = mmcv.imread(no_boxes['data_samples'].mosaic_path, channel_order='rgb')
    assert torch.equal(restore(model, no_boxes).fake_gt,
                       torch.from_numpy(mosaic).permute(2, 0, 1).float())  # the input, copied


def test_restore_mode_must_be_region_whole_or_none(rdid_scope):
    with pytest.raises(ValueError, match='restore_mode must be one of'):
        MODELS.build(tiny_rdid_gan_cfg(restore_mode='crops'))
