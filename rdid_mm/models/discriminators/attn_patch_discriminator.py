"""mmagic's 70x70 PatchGAN discriminator with CBAM after each inner normalisation."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer

from rdid_mm.models.layers.conv_module_with_attention import ConvModuleWithAttention
from rdid_mm.models.layers.generation_init import GenerationInitModule
from rdid_mm.registry import MODELS


@MODELS.register_module()
class AttnPatchDiscriminator(GenerationInitModule):
    """mmagic's ``PatchDiscriminator`` layout; CBAM after the norm of each inner conv block.

    The input conv block (no norm) and the final 1-channel convolution carry no attention; the
    ``num_conv`` normalised blocks between them do, when ``cbam_cfg`` is given. Parameter names are
    mmagic's plus ``model.<i>.cbam.*``.

    Args:
        in_channels, base_channels, num_conv, norm_cfg, init_cfg: as in mmagic's
            ``PatchDiscriminator``.
        cbam_cfg: attention config; None: exactly mmagic's ``PatchDiscriminator``.
    """

    def __init__(self,
                 in_channels: int,
                 base_channels: int = 64,
                 num_conv: int = 3,
                 norm_cfg: dict = dict(type='IN'),
                 cbam_cfg: Optional[dict] = dict(type='CBAM', reduction=16),
                 init_cfg: Optional[dict] = dict(type='normal', gain=0.02)):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(norm_cfg, dict) or 'type' not in norm_cfg:
            raise ValueError(f'norm_cfg must be a dict with a type, got {norm_cfg}')
        # Only for IN, use bias since it does not have affine parameters (as mmagic).
        use_bias = norm_cfg['type'] == 'IN'
        leaky_relu = dict(type='LeakyReLU', negative_slope=0.2)
        kernel_size, padding = 4, 1
        sequence = [
            ConvModuleWithAttention(
                in_channels=in_channels,
                out_channels=base_channels,
                kernel_size=kernel_size,
                stride=2,
                padding=padding,
                bias=True,
                norm_cfg=None,
                act_cfg=leaky_relu)
        ]
        multiple_now = 1
        for n in range(1, num_conv + 1):
            multiple_prev = multiple_now
            multiple_now = min(2**n, 8)
            sequence.append(
                ConvModuleWithAttention(
                    in_channels=base_channels * multiple_prev,
                    out_channels=base_channels * multiple_now,
                    kernel_size=kernel_size,
                    stride=2 if n < num_conv else 1,
                    padding=padding,
                    bias=use_bias,
                    norm_cfg=norm_cfg,
                    act_cfg=leaky_relu,
                    attention_cfg=cbam_cfg))
        sequence.append(
            build_conv_layer(
                dict(type='Conv2d'),
                base_channels * multiple_now,
                1,
                kernel_size=kernel_size,
                stride=1,
                padding=padding))
        self.model = nn.Sequential(*sequence)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch logits (N, 1, H', W') for images (N, C, H, W)."""
        return self.model(x)
