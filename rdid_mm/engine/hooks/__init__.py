"""Registered hooks (as mmdet and mmagic keep them): restoration grids, reference rows, the
non-finite-loss stop, and checkpoints deleted only after the next one is saved."""
from .checkpoint_hook import AtomicCheckpointHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .reference_rows_hook import ReferenceRowsHook
from .restoration_vis_hook import RestorationVisHook, restoration_grid

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossError', 'NonFiniteLossHook', 'ReferenceRowsHook',
    'RestorationVisHook', 'restoration_grid'
]
