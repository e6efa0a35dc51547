"""Validation and test loops that read the data settings a config states at its top level."""
from mmengine.runner import TestLoop, ValLoop

from rdid_mm.registry import LOOPS

from .data_settings import loader_with_settings


@LOOPS.register_module()
class RDIDValLoop(ValLoop):
    """MMEngine's ``ValLoop``; its paired datasets take ``data_root`` (joined with
    ``train_split``) and ``strengths`` from the top level of ``runner.cfg`` where they do not set
    them, and its evaluator must score their annotation file (:mod:`.data_settings`)."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        dataloader = loader_with_settings(runner.cfg, 'val_dataloader', dataloader, evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)


@LOOPS.register_module()
class RDIDTestLoop(TestLoop):
    """MMEngine's ``TestLoop``, filled and checked as :class:`RDIDValLoop` (``test_split``)."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        dataloader = loader_with_settings(runner.cfg, 'test_dataloader', dataloader, evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)
