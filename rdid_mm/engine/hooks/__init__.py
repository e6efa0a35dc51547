"""Registered hooks (as mmdet and mmagic keep them): restoration grids, reference rows, and the
non-finite-loss stop."""
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .reference_rows_hook import ReferenceRowsHook
from .restoration_vis_hook import RestorationVisHook, restoration_grid

__all__ = [
    'NonFiniteLossError', 'NonFiniteLossHook', 'ReferenceRowsHook', 'RestorationVisHook',
    'restoration_grid'
]
