"""Building blocks: CBAM and a ConvModule with an attention slot after its norm."""
from .cbam import CBAM, ChannelAttention, SpatialAttention
from .conv_module_with_attention import ConvModuleWithAttention

__all__ = ['CBAM', 'ChannelAttention', 'SpatialAttention', 'ConvModuleWithAttention']
