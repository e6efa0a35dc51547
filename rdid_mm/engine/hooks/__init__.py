"""Runner hooks (as in mmdet and mmagic, under ``engine/hooks``)."""
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook

__all__ = ['NonFiniteLossError', 'NonFiniteLossHook']
