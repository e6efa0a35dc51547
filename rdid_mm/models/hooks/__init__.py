"""Hooks of the models: restoration grids during validation."""
from .restoration_vis_hook import RestorationVisHook, restoration_grid

__all__ = ['RestorationVisHook', 'restoration_grid']
