"""CBAM: the Convolutional Block Attention Module (Woo et al., ECCV 2018).

Channel attention (a shared MLP over the average- and max-pooled features), then spatial
attention (the channel-wise mean and max, a 7x7 convolution, a sigmoid).

The spatial gate's normalisation. The official CBAM puts a BatchNorm after the 7x7 convolution.
Here the default is no normalisation (the convolution has a bias instead), because:

- the gate sits inside instance-normalised generators: its input is already a per-pixel
  summary of an instance-normalised feature map, so its scale is stable without BatchNorm;
- mmagic's translation models call ``self.train()`` at test time (``CycleGAN.forward_test``),
  so a BatchNorm would use the statistics of the test batch, and a restored face would depend on
  which other images share its batch, or, at batch 1, on that one full-resolution image, whose
  statistics differ from those of the 256x256 training crops;
- it would be the only batch-dependent operation of the generator, and under DDP it would need
  SyncBN to compute the same thing at every batch size per GPU.

``spatial_norm_cfg=dict(type='BN')`` restores the official gate for comparison.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

from rdid_mm.registry import MODELS


def _max(x: torch.Tensor, dim: tuple) -> torch.Tensor:
    """The maximum over ``dim`` (kept): the same values either way. In training through max
    with indices (as the official code), whose backward is cheaper than amax's; without autograd
    through ``amax``, 4-7x faster than max with indices (the CBAM gates of a full-size generator
    on 96 px crops: 45 -> 8 ms of 700)."""
    if not torch.is_grad_enabled():
        return x.amax(dim=dim, keepdim=True)
    if dim == (2, 3):
        return F.adaptive_max_pool2d(x, 1)
    return torch.max(x, dim=dim[0], keepdim=True)[0]


class ChannelAttention(nn.Module):
    """Per-channel gate: sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))).

    The MLP is two 1x1 convolutions with a ReLU between them; its hidden width is
    ``max(channels // reduction, min_hidden_channels)``.
    """

    def __init__(self, channels: int, reduction: int = 16, min_hidden_channels: int = 8):
        super().__init__()
        if reduction < 1 or min_hidden_channels < 1:
            raise ValueError(f'reduction ({reduction}) and min_hidden_channels '
                             f'({min_hidden_channels}) must be >= 1')
        hidden_channels = max(channels // reduction, min_hidden_channels)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden_channels, kernel_size=1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, channels, kernel_size=1, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Both pooled vectors through the shared MLP in one call.
        pooled = torch.cat([F.adaptive_avg_pool2d(x, 1), _max(x, dim=(2, 3))], dim=0)
        avg, peak = self.mlp(pooled).chunk(2, dim=0)
        return x * torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):
    """Per-pixel gate: sigmoid(conv7x7([mean_c(x), max_c(x)])), optionally normalised."""

    def __init__(self, kernel_size: int = 7, norm_cfg: Optional[dict] = None):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.conv = nn.Conv2d(
            2, 1, kernel_size, padding=kernel_size // 2, bias=norm_cfg is None)
        self.norm = None if norm_cfg is None else build_norm_layer(norm_cfg, 1)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([torch.mean(x, dim=1, keepdim=True), _max(x, dim=(1, ))], dim=1)
        logits = self.conv(pooled)
        if self.norm is not None:
            logits = self.norm(logits)
        return x * torch.sigmoid(logits)


@MODELS.register_module()
class CBAM(nn.Module):
    """Channel attention followed by spatial attention; output has the input's shape.

    Args:
        channels: number of feature channels.
        reduction: reduction ratio of the channel MLP (default 16).
        min_hidden_channels: floor on the MLP's hidden width (default 8).
        spatial_kernel_size: size of the spatial gate's convolution (default 7).
        spatial_norm_cfg: normalisation after the spatial convolution; None (default, see the
            module docstring) or e.g. ``dict(type='BN')`` as in the official code.
    """

    def __init__(self, channels: int, reduction: int = 16, min_hidden_channels: int = 8,
                 spatial_kernel_size: int = 7, spatial_norm_cfg: Optional[dict] = None):
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction, min_hidden_channels)
        self.spatial_attention = SpatialAttention(spatial_kernel_size, spatial_norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_attention(self.channel_attention(x))
