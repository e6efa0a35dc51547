"""``resolve_data_settings`` where ``apis/table.py`` imports it from; the code lives in
:mod:`rdid_mm.engine.data_settings`, where the loops run it. Goes when table.py moves."""
from rdid_mm.engine.data_settings import resolve_data_settings

__all__ = ['resolve_data_settings']
