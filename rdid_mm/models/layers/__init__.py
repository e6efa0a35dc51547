"""Building blocks: CBAM, a ConvModule with an attention slot after its norm, and Winograd
convolutions for CPU inference."""
from .cbam import CBAM, ChannelAttention, SpatialAttention
from .conv_module_with_attention import ConvModuleWithAttention
from .winograd_conv import WinogradConv2d, winograd_convolutions

__all__ = ['CBAM', 'ChannelAttention', 'SpatialAttention', 'ConvModuleWithAttention',
           'WinogradConv2d', 'winograd_convolutions']
