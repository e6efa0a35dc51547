"""mmagic's residual block with attention after its second norm, before the skip is added."""
from typing import Optional

from mmagic.models.editors.cyclegan.cyclegan_modules import ResidualBlockWithDropout

from rdid_mm.models.layers.conv_module_with_attention import ConvModuleWithAttention


class ResidualBlockWithAttention(ResidualBlockWithDropout):
    """``ResidualBlockWithDropout`` whose second conv block carries ``attention_cfg``.

    The second conv block of mmagic's residual block has no activation, so attention after its
    norm is attention on the residual branch just before ``x + branch``. Parameter names are
    mmagic's (``block.0.*``, ``block.1.*`` or ``block.2.*`` with dropout) plus ``...cbam.*``.
    """

    def __init__(self, channels: int, padding_mode: str, norm_cfg: dict = dict(type='BN'),
                 use_dropout: bool = True, attention_cfg: Optional[dict] = None):
        super().__init__(channels, padding_mode, norm_cfg=norm_cfg, use_dropout=use_dropout)
        if attention_cfg is None:
            return
        self.block[-1] = ConvModuleWithAttention(
            in_channels=channels,
            out_channels=channels,
            kernel_size=3,
            padding=1,
            bias=norm_cfg['type'] == 'IN',
            norm_cfg=norm_cfg,
            act_cfg=None,
            padding_mode=padding_mode,
            attention_cfg=attention_cfg)
