"""CycleGAN's weight initialisation, shared by rdid_mm's generator and discriminator."""
from typing import Optional

from mmengine.model import BaseModule

from rdid_mm.utils.compat import generation_init_weights


class GenerationInitModule(BaseModule):
    """A BaseModule initialised as mmagic's CycleGAN networks are: N(0, gain) for every conv.

    ``init_cfg`` is ``dict(type='normal' | 'xavier' | 'kaiming' | 'orthogonal', gain=0.02)``, or
    ``dict(type='Pretrained', ...)`` for MMEngine's loading.
    """

    def __init__(self, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.init_type = 'normal' if init_cfg is None else init_cfg.get('type', 'normal')
        self.init_gain = 0.02 if init_cfg is None else init_cfg.get('gain', 0.02)

    def init_weights(self) -> None:
        """CycleGAN's initialisation (every conv, CBAM's included), or MMEngine's pretrained."""
        if self.init_cfg is not None and self.init_cfg['type'] == 'Pretrained':
            super().init_weights()
            return
        generation_init_weights(self, init_type=self.init_type, init_gain=self.init_gain)
        self._is_init = True
