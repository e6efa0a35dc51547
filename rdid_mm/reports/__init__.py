"""The project's reports: Table 1 and the strength sweep (with bootstrap intervals, seeds and the
face-model columns), the qualitative grid, the demo's scores and the downstream-training table.

They run models and detectors over a de-identified dataset and write tables and figures; the
tools call them (``tools/eval_table.py``, ``strength_sweep.py``, ``qualitative_grid.py``,
``demo.py``, ``downstream_table.py``).
"""
from .qualitative_grid import make_qualitative_grid
from .table1 import make_strength_sweep, make_table1

__all__ = ['make_qualitative_grid', 'make_strength_sweep', 'make_table1']
