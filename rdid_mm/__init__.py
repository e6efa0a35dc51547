"""rdid_mm: RDID-GAN (restore de-identified images) on OpenMMLab's MMEngine.

Importing the package stays light: it applies the import-time shims and nothing else. Models,
datasets and metrics register themselves when their subpackages are imported
(``rdid_mm.engine.register_all_modules()`` imports them all).
"""
from .utils import compat as _compat
from .version import __version__

_compat.apply_import_time_shims()

__all__ = ['__version__']
