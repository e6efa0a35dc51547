"""Region or whole-image mode for a model: region mode wherever the model was trained on crops.

A generator trained on face crops (``FaceAwareCrop``) normalises (instance norm) over a crop; run
over a whole image it sees other statistics, and the demo's faces scored L1 31.7 that way against
24.9 restored as crops. A model trained on whole (resized) images gets whole-image mode.

Used by the restore loop (``tools/restore.py``, Table 1's model rows) and, through the engine's
eval loops and ``tools/test.py``, by the models' own val/test steps
(:func:`rdid_mm.models.restorers.restore_samples`), so both restore the same way.
"""
from typing import Any

REGION, WHOLE = 'region', 'whole'
MODES = (REGION, WHOLE)
CROP_TRANSFORMS = ('FaceAwareCrop', 'rdid_mm.FaceAwareCrop')


def _has_crop(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get('type') in CROP_TRANSFORMS:
            return True
        return any(_has_crop(value) for value in node.values())
    if isinstance(node, (list, tuple)):
        return any(_has_crop(value) for value in node)
    return False


def trained_on_crops(cfg) -> bool:
    """Whether the config's training data pipeline crops around faces."""
    train = cfg.get('train_dataloader') if hasattr(cfg, 'get') else None
    return _has_crop(train.to_dict() if hasattr(train, 'to_dict') else train)


def default_mode(cfg) -> str:
    """:data:`REGION` for a model trained on crops (or a config without training data: a
    restorer given only for inference), else :data:`WHOLE`."""
    if cfg is None or cfg.get('train_dataloader') is None:
        return REGION
    return REGION if trained_on_crops(cfg) else WHOLE
