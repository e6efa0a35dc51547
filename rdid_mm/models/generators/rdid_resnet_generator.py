"""RDID-GAN's generator: mmagic's ResnetGenerator with CBAM (paper, Section 3.2)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from rdid_mm.models.layers.conv_module_with_attention import ConvModuleWithAttention
from rdid_mm.models.layers.generation_init import GenerationInitModule
from rdid_mm.registry import MODELS

from .residual_block_with_attention import ResidualBlockWithAttention

CBAM_POSITIONS = ('stem', 'down', 'res')


@MODELS.register_module()
class RDIDResnetGenerator(GenerationInitModule):
    """mmagic's ``ResnetGenerator`` layout with CBAM after instance norm.

    Layout (as mmagic's): reflect-padded 7x7 stride-1 stem, two stride-2 3x3 convolutions,
    ``num_blocks`` residual blocks, two transposed convolutions, reflect-padded 7x7 and tanh.
    CBAM positions, each switchable through ``cbam_positions``:

    - ``'stem'`` and ``'down'``: after the norm, before the ReLU, of the stem and of the two
      stride-2 layers (the paper's "3 down-sampling layers");
    - ``'res'``: in every residual block after its second norm, before the skip is added.

    Parameter names are mmagic's (``model.0.conv.weight``, ...); CBAM parameters live under
    ``...cbam.*``, so mmagic ``ResnetGenerator`` weights load with only those keys missing.

    Args:
        in_channels, out_channels, base_channels, norm_cfg, use_dropout, num_blocks,
            padding_mode, init_cfg: as in mmagic's ``ResnetGenerator``.
        cbam_cfg: attention config (``dict(type='CBAM', reduction=16)``); None: no attention,
            and the network computes exactly what mmagic's ``ResnetGenerator`` computes.
        cbam_positions: a subset of ``('stem', 'down', 'res')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 base_channels: int = 64,
                 norm_cfg: dict = dict(type='IN'),
                 use_dropout: bool = False,
                 num_blocks: int = 9,
                 padding_mode: str = 'reflect',
                 cbam_cfg: Optional[dict] = dict(type='CBAM', reduction=16),
                 cbam_positions: Sequence[str] = CBAM_POSITIONS,
                 init_cfg: Optional[dict] = dict(type='normal', gain=0.02)):
        super().__init__(init_cfg=init_cfg)
        if num_blocks < 0:
            raise ValueError(f'num_blocks must be non-negative, got {num_blocks}')
        if not isinstance(norm_cfg, dict) or 'type' not in norm_cfg:
            raise ValueError(f'norm_cfg must be a dict with a type, got {norm_cfg}')
        unknown = set(cbam_positions) - set(CBAM_POSITIONS)
        if unknown:
            raise ValueError(f'unknown cbam_positions {sorted(unknown)}; '
                             f'choose from {CBAM_POSITIONS}')
        self.cbam_positions = tuple(cbam_positions) if cbam_cfg is not None else ()

        def attention_at(position):
            return cbam_cfg if position in self.cbam_positions else None

        # Only for IN, use bias to follow CycleGAN's original implementation (as mmagic).
        use_bias = norm_cfg['type'] == 'IN'
        num_down = 2
        model = [
            ConvModuleWithAttention(
                in_channels=in_channels,
                out_channels=base_channels,
                kernel_size=7,
                padding=3,
                bias=use_bias,
                norm_cfg=norm_cfg,
                padding_mode=padding_mode,
                attention_cfg=attention_at('stem'))
        ]
        for i in range(num_down):
            multiple = 2**i
            model.append(
                ConvModuleWithAttention(
                    in_channels=base_channels * multiple,
                    out_channels=base_channels * multiple * 2,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    bias=use_bias,
                    norm_cfg=norm_cfg,
                    attention_cfg=attention_at('down')))
        multiple = 2**num_down
        for _ in range(num_blocks):
            model.append(
                ResidualBlockWithAttention(
                    base_channels * multiple,
                    padding_mode=padding_mode,
                    norm_cfg=norm_cfg,
                    use_dropout=use_dropout,
                    attention_cfg=attention_at('res')))
        for i in range(num_down):
            multiple = 2**(num_down - i)
            model.append(
                ConvModuleWithAttention(
                    in_channels=base_channels * multiple,
                    out_channels=base_channels * multiple // 2,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    bias=use_bias,
                    conv_cfg=dict(type='deconv', output_padding=1),
                    norm_cfg=norm_cfg))
        model.append(
            ConvModuleWithAttention(
                in_channels=base_channels,
                out_channels=out_channels,
                kernel_size=7,
                padding=3,
                bias=True,
                norm_cfg=None,
                act_cfg=dict(type='Tanh'),
                padding_mode=padding_mode))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate a batch (N, C, H, W); H and W must be multiples of 4."""
        return self.model(x)
