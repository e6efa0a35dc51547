"""Registered hooks: the GT and Mosaic reference rows beside every validation."""
from .reference_rows_hook import ReferenceRowsHook

__all__ = ['ReferenceRowsHook']
