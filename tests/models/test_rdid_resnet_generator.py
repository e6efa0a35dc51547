"""RDIDResnetGenerator keeps mmagic's ResnetGenerator: names, weights and outputs."""
import pytest
import torch
from mmagic.models.editors.cyclegan import ResnetGenerator

import rdid_mm.models  # noqa: F401
from rdid_mm.models import RDIDResnetGenerator
from rdid_mm.registry import MODELS

SMALL = dict(in_channels=3, out_channels=3, base_channels=8, num_blocks=2)
CBAM = dict(type='CBAM', reduction=4, min_hidden_channels=4)


def mmagic_generator(**kwargs):
    torch.manual_seed(0)
    generator = ResnetGenerator(**kwargs)
    generator.init_weights()
    return generator


def test_default_layout_has_mmagic_parameter_names():
    """The paper-size network: every mmagic name is there, the rest is CBAM."""
    ours = RDIDResnetGenerator(in_channels=3, out_channels=3)
    theirs = ResnetGenerator(in_channels=3, out_channels=3)
    ours_keys, their_keys = set(ours.state_dict()), set(theirs.state_dict())
    assert their_keys <= ours_keys
    extra = ours_keys - their_keys
    assert extra and all('.cbam.' in key for key in extra)
    # stem + 2 down-sampling layers + 9 residual blocks carry CBAM
    assert sum(1 for m in ours.modules() if type(m).__name__ == 'CBAM') == 3 + 9
    for name, tensor in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tensor.shape, name


def test_mmagic_weights_load_with_only_cbam_keys_missing():
    theirs = mmagic_generator(**SMALL)
    ours = MODELS.build(dict(type='RDIDResnetGenerator', cbam_cfg=CBAM, **SMALL))
    result = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys
    assert all('.cbam.' in key for key in result.missing_keys)


def test_without_cbam_it_computes_exactly_what_mmagic_computes():
    theirs = mmagic_generator(**SMALL)
    ours = RDIDResnetGenerator(cbam_cfg=None, **SMALL)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 36)
    assert torch.equal(ours(x), theirs(x))


def test_gradients_reach_every_cbam_parameter():
    torch.manual_seed(0)
    generator = RDIDResnetGenerator(cbam_cfg=CBAM, **SMALL)
    generator.init_weights()
    out = generator(torch.randn(2, 3, 32, 32))
    (out - torch.rand_like(out)).abs().mean().backward()
    cbam_params = {n: p for n, p in generator.named_parameters() if '.cbam.' in n}
    assert len(cbam_params) == (3 + SMALL['num_blocks']) * 6
    for name, param in cbam_params.items():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize('positions, expected', [
    (('stem', ), ['model.0.cbam']),
    (('down', ), ['model.1.cbam', 'model.2.cbam']),
    (('res', ), ['model.3.block.1.cbam', 'model.4.block.1.cbam']),
    ((), []),
])
def test_each_cbam_position_is_switchable(positions, expected):
    generator = RDIDResnetGenerator(cbam_cfg=CBAM, cbam_positions=positions, **SMALL)
    found = [name for name, m in generator.named_modules() if type(m).__name__ == 'CBAM']
    assert found == expected


def test_unknown_position_is_refused():
    with pytest.raises(ValueError, match='unknown cbam_positions'):
        RDIDResnetGenerator(cbam_positions=('bottleneck', ), **SMALL)


def test_init_weights_initialises_cbam_like_every_conv():
    torch.manual_seed(0)
    generator = RDIDResnetGenerator(cbam_cfg=CBAM, **SMALL)
    generator.init_weights()
    weight = generator.model[0].cbam.channel_attention.mlp[0].weight
    assert 0.005 < weight.std().item() < 0.05  # N(0, 0.02), not PyTorch's default
