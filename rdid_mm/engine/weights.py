"""Which weights file a work_dir stands for: the one ``save_best`` keeps.

Reading and applying a weights file is :mod:`rdid_mm.utils.weights_file`.
"""
import glob
import os.path as osp
import re

from rdid_mm.utils.weights_file import CheckpointError


def resolve_weights_path(path: str) -> str:
    """A weights file, or a work_dir: then its best checkpoint's weights file
    (``best_<metric>_iter_<N>.safetensors``, written beside the one ``save_best`` keeps)."""
    if not osp.isdir(path):
        return path
    found = glob.glob(osp.join(path, 'best_*.safetensors'))
    if not found:
        raise CheckpointError(f'{path}: a work_dir without a best_*.safetensors weights file '
                              '(save_best writes one at validation); give a weights file')

    def iteration(name):
        match = re.search(r'_(\d+)\.safetensors$', name)
        return int(match.group(1)) if match else -1
    return max(found, key=iteration)
