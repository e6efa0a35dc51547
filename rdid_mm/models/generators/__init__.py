"""Generators."""
from .rdid_resnet_generator import RDIDResnetGenerator
from .residual_block_with_attention import ResidualBlockWithAttention

__all__ = ['RDIDResnetGenerator', 'ResidualBlockWithAttention']
