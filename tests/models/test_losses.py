"""Loss terms: registered, weighted from the config, and the generator total by hand."""
import math

import pytest
import torch
import torch.nn as nn

import rdid_mm.models  # noqa: F401
from rdid_mm.registry import MODELS

from .tiny_models import tiny_rdid_gan_cfg


def const(value, shape=(1, 3, 4, 4)):
    return torch.full(shape, float(value))


@pytest.mark.parametrize('name', ['DistLoss', 'CycleLoss', 'IdentityLoss'])
def test_l1_terms_sum_both_directions_times_the_weight(name):
    loss = MODELS.build(dict(type=name, loss_weight=10.0))
    # |1 - 0| = 1 one way, |-2 - 0| = 2 the other: 10 * (1 + 2)
    value = loss((const(1), const(0)), (const(-2), const(0)))
    assert value.item() == pytest.approx(30.0)
    with pytest.raises(ValueError, match='pair'):
        loss()


@pytest.mark.parametrize('gan_type, expected', [
    ('lsgan', (0.25 - 1)**2),  # mean (D - 1)^2 with D = 0.25
    ('vanilla', math.log(1 + math.exp(-0.25))),  # BCE-with-logits of 0.25 against 1
])
def test_adversarial_losses_are_mmagic_gan_loss(gan_type, expected):
    loss = MODELS.build(dict(type='GANLoss', gan_type=gan_type, loss_weight=2.0))
    assert loss(const(0.25), True, is_disc=False).item() == pytest.approx(2 * expected)
    assert loss(const(0.25), True, is_disc=True).item() == pytest.approx(expected)


class MeanDiscriminator(nn.Module):
    """D(x) = channel mean of x: a discriminator whose outputs are easy to compute by hand."""

    def forward(self, x):
        return x.mean(dim=1, keepdim=True)


def test_generator_total_by_hand(rdid_scope):
    model = MODELS.build(tiny_rdid_gan_cfg(
        gan_loss=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
        dist_loss=dict(type='DistLoss', loss_weight=10.0),
        cycle_loss=dict(type='CycleLoss', loss_weight=10.0),
        id_loss=None))
    model.discriminators = nn.ModuleDict(dict(gt=MeanDiscriminator(), mosaic=MeanDiscriminator()))
    outputs = dict(
        real_gt=const(0.5), fake_gt=const(0.25), cycle_gt=const(0.4),
        real_mosaic=const(-0.5), fake_mosaic=const(-0.25), cycle_mosaic=const(-0.7))
    loss, log_vars = model._get_gen_loss(outputs)

    gan = (0.25 - 1)**2 + (-0.25 - 1)**2  # LSGAN: (D(G(x)) - 1)^2 for both generators
    dist = 10 * (abs(0.5 - 0.25) + abs(-0.5 - -0.25))  # |y - G(x)| + |x - F(y)|
    cycle = 10 * (abs(0.5 - 0.4) + abs(-0.5 - -0.7))  # |y - G(F(y))| + |x - F(G(x))|
    assert log_vars['loss_gan_g_gt'].item() == pytest.approx((0.25 - 1)**2)
    assert log_vars['dist_loss'].item() == pytest.approx(dist)
    assert log_vars['cycle_loss'].item() == pytest.approx(cycle)
    assert 'id_loss' not in log_vars
    assert loss.item() == pytest.approx(gan + dist + cycle)
    assert loss.item() == pytest.approx(0.5625 + 1.5625 + 5.0 + 3.0)


def test_discriminator_total_by_hand(rdid_scope):
    model = MODELS.build(tiny_rdid_gan_cfg(buffer_size=0))
    model.discriminators = nn.ModuleDict(dict(gt=MeanDiscriminator(), mosaic=MeanDiscriminator()))
    outputs = dict(real_gt=const(0.5), fake_gt=const(0.25),
                   real_mosaic=const(-0.5), fake_mosaic=const(-0.25))
    loss, log_vars = model._get_disc_loss(outputs)
    # 0.5 * (D(fake)^2 + (D(real) - 1)^2) per domain
    gt = 0.5 * (0.25**2 + (0.5 - 1)**2)
    mosaic = 0.5 * ((-0.25)**2 + (-0.5 - 1)**2)
    assert log_vars['loss_gan_d_gt'].item() == pytest.approx(gt)
    assert loss.item() == pytest.approx(gt + mosaic)


def test_identity_term_when_weighted(rdid_scope):
    model = MODELS.build(tiny_rdid_gan_cfg(id_loss=dict(type='IdentityLoss', loss_weight=0.5)))
    model.discriminators = nn.ModuleDict(dict(gt=MeanDiscriminator(), mosaic=MeanDiscriminator()))
    outputs = dict(
        real_gt=torch.rand(1, 3, 8, 8), fake_gt=torch.rand(1, 3, 8, 8),
        cycle_gt=torch.rand(1, 3, 8, 8), real_mosaic=torch.rand(1, 3, 8, 8),
        fake_mosaic=torch.rand(1, 3, 8, 8), cycle_mosaic=torch.rand(1, 3, 8, 8))
    _, log_vars = model._get_gen_loss(outputs)
    with torch.no_grad():
        expected = 0.5 * sum(
            (model.generators[d](outputs[f'real_{d}']) - outputs[f'real_{d}']).abs().mean()
            for d in ('gt', 'mosaic'))
    assert log_vars['id_loss'].item() == pytest.approx(expected.item(), rel=1e-5)
