"""mmagic's CycleGAN and Pix2Pix with rdid_mm's restore interface, for the baseline configs.

Training is mmagic's, unchanged. Validation, test and restoration go through
:class:`~rdid_mm.models.restorers.RestoreMixin`, as for RDID-GAN: full resolution, reflect padding
to the network's divisor, the generator in eval mode. For Pix2Pix this replaces mmagic's test
behaviour (``forward_test`` switches to train mode: dropout and batch statistics at test time) and
its ``test_step`` (mmagic 1.2.0 indexes the stacked DataSample without splitting it:
``TypeError: 'DataSample' object is not subscriptable``).
"""
from mmagic.models.editors.cyclegan import CycleGAN
from mmagic.models.editors.pix2pix import Pix2Pix

from rdid_mm.registry import MODELS

from .restorers import RestoreMixin


@MODELS.register_module()
class CycleGANBaseline(RestoreMixin, CycleGAN):
    """mmagic's ``CycleGAN`` with the restore interface."""


@MODELS.register_module()
class Pix2PixBaseline(RestoreMixin, Pix2Pix):
    """mmagic's ``Pix2Pix`` with the restore interface (eval-mode test; working test step)."""
