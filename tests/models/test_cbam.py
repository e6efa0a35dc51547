"""CBAM: shapes, the hidden-width floor, a hand-computed output, and batch independence."""
import pytest
import torch
import torch.nn as nn

import rdid_mm.models  # noqa: F401
from rdid_mm.models.layers import CBAM, ConvModuleWithAttention
from rdid_mm.registry import MODELS


def test_cbam_is_registered_and_keeps_the_shape():
    cbam = MODELS.build(dict(type='CBAM', channels=32, reduction=16))
    assert isinstance(cbam, CBAM)
    x = torch.randn(2, 32, 9, 11)
    assert cbam(x).shape == x.shape


def test_channel_mlp_hidden_width_has_a_floor():
    assert CBAM(256, reduction=16).channel_attention.mlp[0].out_channels == 16
    assert CBAM(32, reduction=16, min_hidden_channels=8).channel_attention.mlp[0].out_channels == 8
    with pytest.raises(ValueError, match='reduction'):
        CBAM(32, reduction=0)


def test_zero_weights_halve_twice():
    """With every weight and bias zero both gates are sigmoid(0) = 0.5: output = x / 4."""
    cbam = CBAM(8, reduction=2, min_hidden_channels=1)
    for param in cbam.parameters():
        nn.init.zeros_(param)
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(cbam(x), x * 0.25)


def test_hand_computed_spatial_gate():
    """Spatial gate alone: sigmoid(conv([mean_c, max_c])) with a 1x1 kernel picking the mean."""
    cbam = CBAM(2, reduction=1, min_hidden_channels=1, spatial_kernel_size=1)
    for param in cbam.channel_attention.parameters():
        nn.init.zeros_(param)
    with torch.no_grad():
        cbam.spatial_attention.conv.weight.copy_(torch.tensor([1.0, 0.0]).view(1, 2, 1, 1))
        cbam.spatial_attention.conv.bias.zero_()
    x = torch.tensor([[[[1.0, -3.0]], [[3.0, 1.0]]]])  # (1, 2, 1, 2)
    channel_gated = x * 0.5
    mean = channel_gated.mean(dim=1, keepdim=True)  # [[1.0, -0.5]]
    expected = channel_gated * torch.sigmoid(mean)
    torch.testing.assert_close(cbam(x), expected)


def test_default_spatial_gate_has_no_batch_norm_and_is_batch_independent():
    """The decision documented in cbam.py: without BatchNorm an image's output does not depend
    on the other images of its batch, even in train mode (mmagic tests in train mode)."""
    torch.manual_seed(0)
    cbam = CBAM(16).train()
    assert cbam.spatial_attention.norm is None
    assert cbam.spatial_attention.conv.bias is not None
    a, b = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8) * 5 + 3
    alone = cbam(a)
    in_batch = cbam(torch.cat([a, b]))[:1]
    torch.testing.assert_close(alone, in_batch)

    official = CBAM(16, spatial_norm_cfg=dict(type='BN')).train()
    assert isinstance(official.spatial_attention.norm, nn.BatchNorm2d)
    assert not torch.allclose(official(a), official(torch.cat([a, b]))[:1])


def test_conv_module_with_attention_slot_is_between_norm_and_activation():
    torch.manual_seed(0)
    conv = ConvModuleWithAttention(
        4, 4, 3, padding=1, norm_cfg=dict(type='IN'), attention_cfg=dict(type='CBAM'))
    x = torch.randn(1, 4, 6, 6)
    expected = conv.activate(conv.cbam(conv.norm(conv.conv(x))))
    torch.testing.assert_close(conv(x), expected)
    without = ConvModuleWithAttention(4, 4, 3, padding=1, norm_cfg=dict(type='IN'))
    assert without.cbam is None
    with pytest.raises(ValueError, match='order'):
        ConvModuleWithAttention(4, 4, 3, order=('norm', 'conv', 'act'),
                                norm_cfg=dict(type='BN'), attention_cfg=dict(type='CBAM'))


def test_inference_gives_the_training_path_s_values_exactly():
    """Without autograd the gates take their maxima with amax: bit-identical outputs."""
    torch.manual_seed(0)
    cbam = CBAM(32, reduction=4)
    x = torch.randn(2, 32, 9, 11)
    trained_path = cbam(x)
    assert trained_path.requires_grad
    with torch.no_grad():
        assert torch.equal(cbam(x), trained_path.detach())
