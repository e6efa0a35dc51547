"""Privacy audit: face embedders (``EMBEDDERS``), identity leakage by rank against a gallery, the
memorisation split of a trained model, and the builder's per-strength check.

Nothing heavy loads at import: dlib, onnxruntime and matplotlib load when a model runs.
"""
from .builder_check import privacy_check
from .command import privacy_audit
from .embedders import BaseEmbedder, DlibResNetEmbedder, OnnxEmbedder, build_embedder
from .identity_audit import IdentityAudit, identity_top1, summarize_rows
from .training_split_warning import TrainingSplitWarning, warn_if_training_split

__all__ = [
    'BaseEmbedder', 'DlibResNetEmbedder', 'IdentityAudit', 'OnnxEmbedder', 'TrainingSplitWarning',
    'build_embedder', 'identity_top1', 'privacy_audit', 'privacy_check', 'summarize_rows',
    'warn_if_training_split'
]
