"""RDID-GAN's L1 terms, each summed over both translation directions (paper, Section 3.3).

With x a pixelated image, y its original, G: mosaic -> gt and F: gt -> mosaic:

- ``DistLoss`` (paired): ``w * (|y - G(x)|_1 + |x - F(y)|_1)``;
- ``CycleLoss``: ``w * (|x - F(G(x))|_1 + |y - G(F(y))|_1)``;
- ``IdentityLoss``: ``w * (|y - G(y)|_1 + |x - F(x)|_1)``.

``|.|_1`` is the mean absolute error over all elements, as CycleGAN's ``F.l1_loss``. Each
module takes the (prediction, target) pairs of the two directions and returns the weighted sum.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from rdid_mm.registry import MODELS


class BidirectionalL1Loss(nn.Module):
    """``loss_weight * sum(mean |pred - target|)`` over the given (pred, target) pairs."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, *pairs) -> torch.Tensor:
        if not pairs:
            raise ValueError(f'{type(self).__name__} needs at least one (pred, target) pair')
        total = sum(F.l1_loss(pred, target, reduction='mean') for pred, target in pairs)
        return self.loss_weight * total


@MODELS.register_module()
class DistLoss(BidirectionalL1Loss):
    """Paired L1: ``w * (|y - G(x)| + |x - F(y)|)``; pass ``(G(x), y), (F(y), x)``."""


@MODELS.register_module()
class CycleLoss(BidirectionalL1Loss):
    """Cycle consistency: ``w * (|x - F(G(x))| + |y - G(F(y))|)``."""


@MODELS.register_module()
class IdentityLoss(BidirectionalL1Loss):
    """Identity: ``w * (|y - G(y)| + |x - F(x)|)``."""
