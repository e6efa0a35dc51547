"""Register every rdid_mm module and set the default scope.

It lives in the engine, not in ``utils`` as in mmagic: it imports the packages below the engine
(datasets, deid, models, evaluation), and no module imports one above its layer.
"""
import datetime
import warnings

from mmengine import DefaultScope

import rdid_mm.datasets  # noqa: F401  (dataset, transforms)
import rdid_mm.deid.face_sources  # noqa: F401  (FACE_SOURCES)
import rdid_mm.deid.pixelate  # noqa: F401  (the Pixelate transform)
import rdid_mm.evaluation.metrics  # noqa: F401  (metrics)
import rdid_mm.models  # noqa: F401  (models)

from . import hooks, runner, train_loop  # noqa: F401  (hooks, runner, loop)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Make every rdid_mm module that registers something available (and nothing else: no
    tables, plots, grids or the dataset builder in a training process): importing this module
    imported them.

    Args:
        init_default_scope: make 'rdid_mm' the current default scope, as a config with
            ``default_scope='rdid_mm'`` does. If another scope is current, a new scope instance
            named after the time is created, as mmdet and mmagic do.
    """
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('rdid_mm'):
        DefaultScope.get_instance('rdid_mm', scope_name='rdid_mm')
    elif current.scope_name != 'rdid_mm':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "rdid_mm"; '
                      '`register_all_modules` sets it to "rdid_mm".')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'rdid_mm-{stamp}', scope_name='rdid_mm')
