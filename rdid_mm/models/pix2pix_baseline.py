"""mmagic's Pix2Pix with a working test step, for the Pix2Pix baseline configs."""
from mmagic.models.editors.pix2pix import Pix2Pix

from rdid_mm.registry import MODELS


@MODELS.register_module()
class Pix2PixBaseline(Pix2Pix):
    """mmagic's ``Pix2Pix``, unchanged except ``test_step``.

    mmagic 1.2.0's ``Pix2Pix.test_step`` indexes the batch's stacked ``DataSample`` without
    splitting it first (``TypeError: 'DataSample' object is not subscriptable``); its
    ``val_step`` splits it and is otherwise the same, so the test step runs the val step.
    """

    def test_step(self, data: dict):
        """Same as :meth:`val_step`."""
        return self.val_step(data)
