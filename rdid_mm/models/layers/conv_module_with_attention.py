"""mmcv's ConvModule with an attention module between its norm and its activation.

mmcv's ``ConvModule`` runs conv -> norm -> act with no slot in between. This subclass keeps its
parameter names (``conv.*``, the norm's name) and adds the attention module under ``cbam``, so
weights trained with mmagic's networks load into it with only the ``cbam`` keys missing. Without
an attention config it computes exactly what ``ConvModule`` computes.
"""
from typing import Optional

import torch
from mmcv.cnn import ConvModule

from rdid_mm.registry import MODELS


class ConvModuleWithAttention(ConvModule):
    """``ConvModule`` (order conv, norm, act) with ``attention_cfg`` applied after the norm.

    Args:
        attention_cfg: config of the attention module, e.g. ``dict(type='CBAM')``; its
            ``channels`` is set to ``out_channels``. None: no attention.
        *args, **kwargs: passed to ``ConvModule``.
    """

    def __init__(self, *args, attention_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        if attention_cfg is not None and self.order != ('conv', 'norm', 'act'):
            raise ValueError(f'attention after the norm needs order (conv, norm, act), '
                             f'got {self.order}')
        if attention_cfg is None:
            self.cbam = None
        else:
            self.cbam = MODELS.build(dict(attention_cfg, channels=self.out_channels))

    def forward(self, x: torch.Tensor, activate: bool = True, norm: bool = True) -> torch.Tensor:
        if self.cbam is None:
            return super().forward(x, activate=activate, norm=norm)
        x = super().forward(x, activate=False, norm=norm)
        x = self.cbam(x)
        if activate and self.with_activation:
            x = self.activate(x)
        return x
