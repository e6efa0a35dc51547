"""Loss terms; the adversarial loss is mmagic's ``GANLoss`` (``gan_type='lsgan' | 'vanilla'``)."""
from .bidirectional_l1_loss import BidirectionalL1Loss, CycleLoss, DistLoss, IdentityLoss

__all__ = ['BidirectionalL1Loss', 'CycleLoss', 'DistLoss', 'IdentityLoss']
