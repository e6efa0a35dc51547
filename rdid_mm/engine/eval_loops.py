"""Validation and test loops that read the data settings a config states at its top level and
restore as the model was trained (region mode for a model trained on face crops)."""
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, ValLoop

from rdid_mm.models.restore_mode import default_mode
from rdid_mm.registry import LOOPS

from .data_settings import loader_with_settings


def set_restore_mode(runner) -> None:
    """Give the runner's restoring model the restore mode of ``runner.cfg`` (region mode for a
    model trained on face crops: :func:`rdid_mm.models.restore_mode.default_mode`), so that its
    val/test steps restore as ``tools/restore.py`` and Table 1 do; a mode the model already has
    (its config's ``restore_mode``) is kept, a model without one (not a restorer) is left alone."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if hasattr(model, 'restore_mode') and model.restore_mode is None:
        model.restore_mode = default_mode(runner.cfg)


@LOOPS.register_module()
class RDIDValLoop(ValLoop):
    """MMEngine's ``ValLoop``; its paired datasets take ``data_root`` (joined with
    ``train_split``) and ``strengths`` from the top level of ``runner.cfg`` where they do not set
    them, and its evaluator must score their annotation file (:mod:`.data_settings`); the model
restores in its config's mode (:func:`set_restore_mode`), so save_best ranks what Table 1 scores."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        dataloader = loader_with_settings(runner.cfg, 'val_dataloader', dataloader, evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)
        set_restore_mode(runner)


@LOOPS.register_module()
class RDIDTestLoop(TestLoop):
    """MMEngine's ``TestLoop``, filled and checked as :class:`RDIDValLoop` (``test_split``),
    restoring in the config's mode as it does."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False):
        dataloader = loader_with_settings(runner.cfg, 'test_dataloader', dataloader, evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)
        set_restore_mode(runner)
