"""The warning for restoring or auditing a model's own training images.

The record itself (what a weights file stores, how it is read back) is dataset-side and lives in
:mod:`rdid_mm.datasets.training_split`.
"""
import json
import warnings
from typing import Iterable, Optional

from rdid_mm.datasets.training_split import read_training_split, training_image_ids


class TrainingSplitWarning(UserWarning):
    """Images of a model's own training split are about to be restored or audited."""


def warn_if_training_split(weights_path: str, ann_file: str,
                           image_ids: Optional[Iterable[int]] = None) -> int:
    """Warn when images to restore or audit belong to the model's own training split.

    ``image_ids`` default to every image of ``ann_file``. Returns how many of them the model was
    trained on (0 without a record or for another annotation file).
    """
    record = read_training_split(weights_path)
    if record is None:
        return 0
    trained = training_image_ids(record, ann_file)
    if not trained:
        return 0
    if image_ids is None:
        with open(ann_file) as f:
            image_ids = [int(image['id']) for image in json.load(f)['images']]
    overlap = trained & {int(i) for i in image_ids}
    if overlap:
        warnings.warn(
            f'{len(overlap)} of the images of {ann_file} are in the training split of '
            f'{weights_path}: the model may give back the faces it was trained on; judge '
            'privacy and quality on held-out images (see tools/privacy_audit.py --weights)',
            TrainingSplitWarning, stacklevel=2)
    return len(overlap)


def training_split_message(weights_path: str, ann_file: str,
                           image_ids: Optional[Iterable[int]] = None) -> Optional[str]:
    """:func:`warn_if_training_split`'s message as one line (for a tool to print), or None."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', TrainingSplitWarning)
        warn_if_training_split(weights_path, ann_file, image_ids)
    messages = [str(w.message) for w in caught if issubclass(w.category, TrainingSplitWarning)]
    return messages[0] if messages else None
