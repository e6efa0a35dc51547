"""Winograd 3x3 convolutions: equal to F.conv2d in float64 within float32 rounding, taken only
for CPU inference, switched off again after the block, and the full-size generator's outputs
unchanged within a grey level."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rdid_mm.models.layers import winograd_conv
from rdid_mm.models.layers.winograd_conv import (
    WinogradConv2d,
    transform_weight,
    winograd_conv3x3,
    winograd_convolutions,
)


def relative_error(out: torch.Tensor, reference: torch.Tensor) -> float:
    return ((out.double() - reference).abs().max() / reference.abs().max()).item()


@pytest.mark.parametrize('batch,channels,out_channels,height,width,padding', [
    (1, 32, 64, 5, 7, 1),      # less than two tiles, odd sizes
    (2, 64, 32, 13, 30, 0),    # no padding, sides not multiples of 4
    (3, 48, 48, 24, 24, 1),    # whole tiles
])
def test_equals_direct_convolution_within_float_rounding(batch, channels, out_channels, height,
                                                         width, padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(channels, out_channels, 3, padding=padding).double()
    x = torch.randn(batch, channels, height, width, dtype=torch.float64)
    reference = conv(x).detach()
    conv = conv.float()
    with torch.no_grad(), winograd_convolutions(conv) as switched:
        assert switched == 1 and type(conv) is WinogradConv2d
        out = conv(x.float())
    assert out.shape == reference.shape
    assert relative_error(out, reference) < 1e-4  # a wrong transform is off by far more
    assert type(conv) is nn.Conv2d  # plain again after the block


def test_large_inputs_are_cut_into_bands_with_the_same_result(monkeypatch):
    torch.manual_seed(1)
    x = torch.randn(2, 32, 39, 29, dtype=torch.float64)
    weight = torch.randn(32, 32, 3, 3, dtype=torch.float64)
    monkeypatch.setattr(winograd_conv, 'MAX_TILES', 8)  # 2 x 7 tiles a row: one tile row a band
    bias = torch.randn(32, dtype=torch.float64)
    reference = F.conv2d(x, weight, bias)
    out = winograd_conv3x3(x.float(), transform_weight(weight), bias.float())
    assert out.shape == reference.shape
    assert relative_error(out, reference) < 1e-4


def test_only_plain_3x3_stride_1_convolutions_are_switched_and_all_come_back():
    net = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.Conv2d(32, 32, 3, stride=2),
                        nn.Conv2d(32, 32, 1), nn.Conv2d(32, 32, 3, groups=2),
                        nn.Conv2d(3, 32, 3), nn.Conv2d(32, 32, 3, padding=1,
                                                       padding_mode='reflect'),
                        nn.ConvTranspose2d(32, 32, 3), nn.Conv2d(32, 64, 3))
    keys = list(net.state_dict())
    with winograd_convolutions(net) as switched:
        assert switched == 2
        assert [type(m) is WinogradConv2d for m in net] == [True] + [False] * 6 + [True]
        assert list(net.state_dict()) == keys
    assert not any(isinstance(m, WinogradConv2d) for m in net.modules())
    with winograd_convolutions(net, enabled=False) as switched:
        assert switched == 0 and type(net[0]) is nn.Conv2d


def test_training_and_autograd_take_the_direct_convolution():
    torch.manual_seed(2)
    conv = nn.Conv2d(32, 32, 3, padding=1)
    x = torch.randn(1, 32, 8, 8, requires_grad=True)
    with winograd_convolutions(conv):
        out = conv(x)
        out.sum().backward()
    assert torch.equal(out, F.conv2d(x, conv.weight, conv.bias, padding=1))
    assert x.grad is not None


def test_the_cached_weight_transform_follows_new_weights():
    torch.manual_seed(3)
    conv = nn.Conv2d(32, 32, 3, padding=1)
    x = torch.randn(1, 32, 8, 8)
    with torch.no_grad(), winograd_convolutions(conv):
        conv(x)
        conv.weight.mul_(-2.0)  # in place, as load_state_dict copies
        out = conv(x)
        reference = F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=1)
    assert relative_error(out, reference) < 1e-4
    assert set(vars(conv)) == set(vars(nn.Conv2d(32, 32, 3, padding=1)))  # no cache on it
    with torch.no_grad(), winograd_convolutions(conv):
        conv.weight.data.mul_(0.5)  # through .data: no version bump
        out = conv(x)
        reference = F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=1)
    assert relative_error(out, reference) < 1e-4


def test_full_size_generator_restores_the_same_faces(monkeypatch):
    """The entry config's generator (9 blocks, 256 channels, random weights) through the
    restorer with and without Winograd: its 18 residual convolutions take the Winograd path
    (only when ``winograd`` is on), outputs within a grey level."""
    from rdid_mm.apis import init_model
    from rdid_mm.models.restorers import model_restorer

    from tests.conftest import REPO_ROOT

    torch.manual_seed(4)
    model = init_model(f'{REPO_ROOT}/configs/rdid_gan_coco.py')
    with winograd_convolutions(model.generators['gt']) as switched:
        assert switched == 18
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (96, 64, 3), dtype=np.uint8) for _ in range(2)]
    crops = [np.kron(c[::8, ::8], np.ones((8, 8, 1), dtype=np.uint8)) for c in crops]  # mosaics
    calls = []
    monkeypatch.setattr(winograd_conv, 'winograd_conv3x3',
                        lambda *a: calls.append(1) or winograd_conv3x3(*a))
    model.winograd = False
    direct = model_restorer(model)(crops)
    assert calls == []
    model.winograd = True
    fast = model_restorer(model)(crops)
    assert len(calls) == 18  # one batch of two crops
    for a, b in zip(direct, fast):
        assert np.abs(a.astype(int) - b).max() <= 1
    assert not any(isinstance(m, WinogradConv2d) for m in model.modules())


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_cpu_autocast_takes_the_direct_convolution(dtype):
    """Autocast would compute the transforms and the 36 products in half precision (relative
    error about 20x the direct convolution's): a switched convolution computes what a plain one
    does under the same autocast, in its dtype."""
    torch.manual_seed(5)
    conv = nn.Conv2d(64, 64, 3, padding=1)
    x = torch.randn(2, 64, 20, 20)
    with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
        direct = conv(x)
        with winograd_convolutions(conv):
            out = conv(x)
    assert out.dtype == direct.dtype == dtype
    assert torch.equal(out, direct)
