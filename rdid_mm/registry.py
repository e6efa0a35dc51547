"""The project's registries: children of mmagic's, so a config with ``default_scope='rdid_mm'``
finds rdid_mm's modules first and mmagic's (and, through them, MMEngine's) next.

mmdet and mmpose modules are reached with their scope prefix (``type='mmdet.X'``).
``FACE_SOURCES`` is rdid_mm's own: the face detectors and annotation readers of ``rdid_mm.deid``;
so is ``EMBEDDERS``: the face-recognition models of the privacy audit (``rdid_mm.privacy``).
"""
from mmagic.registry import DATA_SAMPLERS as MMAGIC_DATA_SAMPLERS
from mmagic.registry import DATASETS as MMAGIC_DATASETS
from mmagic.registry import EVALUATORS as MMAGIC_EVALUATORS
from mmagic.registry import HOOKS as MMAGIC_HOOKS
from mmagic.registry import LOG_PROCESSORS as MMAGIC_LOG_PROCESSORS
from mmagic.registry import LOOPS as MMAGIC_LOOPS
from mmagic.registry import METRICS as MMAGIC_METRICS
from mmagic.registry import MODEL_WRAPPERS as MMAGIC_MODEL_WRAPPERS
from mmagic.registry import MODELS as MMAGIC_MODELS
from mmagic.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS
from mmagic.registry import OPTIM_WRAPPERS as MMAGIC_OPTIM_WRAPPERS
from mmagic.registry import OPTIMIZERS as MMAGIC_OPTIMIZERS
from mmagic.registry import PARAM_SCHEDULERS as MMAGIC_PARAM_SCHEDULERS
from mmagic.registry import RUNNER_CONSTRUCTORS as MMAGIC_RUNNER_CONSTRUCTORS
from mmagic.registry import RUNNERS as MMAGIC_RUNNERS
from mmagic.registry import TRANSFORMS as MMAGIC_TRANSFORMS
from mmagic.registry import VISBACKENDS as MMAGIC_VISBACKENDS
from mmagic.registry import VISUALIZERS as MMAGIC_VISUALIZERS
from mmagic.registry import WEIGHT_INITIALIZERS as MMAGIC_WEIGHT_INITIALIZERS
from mmengine.registry import Registry


def _child(name, parent, locations=()):
    """A registry under mmagic's ``parent``.

    MMEngine imports only the searched registry's own locations before falling back to its parent's
    modules, so the child lists the parent's locations too (e.g. ``mmagic.visualization``).
    """
    return Registry(name, parent=parent, locations=list(locations) + list(parent._locations))


RUNNERS = _child('runner', MMAGIC_RUNNERS, ['rdid_mm.engine'])
# Every registry a Runner builds from under scope 'rdid_mm' needs a child here: without one MMEngine
# warns "Failed to search registry with scope rdid_mm" and falls back (e.g. for log_processor).
RUNNER_CONSTRUCTORS = _child('runner constructor', MMAGIC_RUNNER_CONSTRUCTORS)
LOG_PROCESSORS = _child('log_processor', MMAGIC_LOG_PROCESSORS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMAGIC_WEIGHT_INITIALIZERS)
LOOPS = _child('loop', MMAGIC_LOOPS, ['rdid_mm.engine'])
HOOKS = _child('hook', MMAGIC_HOOKS, ['rdid_mm.engine.hooks'])
MODELS = _child('model', MMAGIC_MODELS, ['rdid_mm.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMAGIC_MODEL_WRAPPERS, ['rdid_mm.models'])
OPTIMIZERS = _child('optimizer', MMAGIC_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMAGIC_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMAGIC_PARAM_SCHEDULERS)
DATASETS = _child('dataset', MMAGIC_DATASETS, ['rdid_mm.datasets'])
DATA_SAMPLERS = _child('data sampler', MMAGIC_DATA_SAMPLERS, ['rdid_mm.datasets'])
TRANSFORMS = _child('transform', MMAGIC_TRANSFORMS, ['rdid_mm.datasets', 'rdid_mm.deid.pixelate'])
METRICS = _child('metric', MMAGIC_METRICS, ['rdid_mm.evaluation.metrics'])
EVALUATORS = _child('evaluator', MMAGIC_EVALUATORS, ['rdid_mm.evaluation.metrics'])
VISUALIZERS = _child('visualizer', MMAGIC_VISUALIZERS, ['rdid_mm.engine'])
VISBACKENDS = _child('vis_backend', MMAGIC_VISBACKENDS, ['rdid_mm.engine'])

FACE_SOURCES = Registry('face source', scope='rdid_mm', locations=['rdid_mm.deid.face_sources'])
EMBEDDERS = Registry('face embedder', scope='rdid_mm', locations=['rdid_mm.privacy.embedders'])
