"""AttnPatchDiscriminator keeps mmagic's PatchDiscriminator: names, weights and outputs."""
import torch
from mmagic.models.archs import PatchDiscriminator

import rdid_mm.models  # noqa: F401
from rdid_mm.models import AttnPatchDiscriminator
from rdid_mm.registry import MODELS

SMALL = dict(in_channels=3, base_channels=8, num_conv=3, norm_cfg=dict(type='IN'))
CBAM = dict(type='CBAM', reduction=4, min_hidden_channels=4)


def mmagic_discriminator():
    torch.manual_seed(0)
    disc = PatchDiscriminator(**SMALL)
    for param in disc.parameters():
        torch.nn.init.normal_(param, 0, 0.02)
    return disc


def test_mmagic_weights_load_with_only_cbam_keys_missing():
    theirs = mmagic_discriminator()
    ours = MODELS.build(dict(type='AttnPatchDiscriminator', cbam_cfg=CBAM, **SMALL))
    result = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all('.cbam.' in key for key in result.missing_keys)
    # CBAM after the norm of each of the num_conv inner blocks, not on the input block
    cbams = [name for name, m in ours.named_modules() if type(m).__name__ == 'CBAM']
    assert cbams == ['model.1.cbam', 'model.2.cbam', 'model.3.cbam']


def test_without_cbam_it_computes_exactly_what_mmagic_computes():
    theirs = mmagic_discriminator()
    ours = AttnPatchDiscriminator(cbam_cfg=None, **SMALL)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    assert torch.equal(ours(x), theirs(x))
    assert ours(x).shape == (2, 1, 6, 6)


def test_gradients_reach_every_cbam_parameter():
    torch.manual_seed(0)
    disc = AttnPatchDiscriminator(cbam_cfg=CBAM, **SMALL)
    disc.init_weights()
    disc(torch.randn(2, 3, 64, 64)).pow(2).mean().backward()
    for name, param in disc.named_parameters():
        if '.cbam.' in name:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
