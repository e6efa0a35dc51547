"""Discriminators."""
from .attn_patch_discriminator import AttnPatchDiscriminator

__all__ = ['AttnPatchDiscriminator']
