"""Registered hooks (as mmdet and mmagic keep them): restoration grids, reference rows."""
from .reference_rows_hook import ReferenceRowsHook
from .restoration_vis_hook import RestorationVisHook, restoration_grid

__all__ = ['ReferenceRowsHook', 'RestorationVisHook', 'restoration_grid']
