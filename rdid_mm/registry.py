"""The project's registries: children of mmagic's, so a config with ``default_scope='rdid_mm'``
finds rdid_mm's modules first and mmagic's (and, through them, MMEngine's) next.

mmdet and mmpose modules are reached with their scope prefix (``type='mmdet.X'``).
``FACE_SOURCES`` is rdid_mm's own: the face detectors and annotation readers of ``rdid_mm.deid``.
"""
from mmagic.registry import DATA_SAMPLERS as MMAGIC_DATA_SAMPLERS
from mmagic.registry import DATASETS as MMAGIC_DATASETS
from mmagic.registry import EVALUATORS as MMAGIC_EVALUATORS
from mmagic.registry import HOOKS as MMAGIC_HOOKS
from mmagic.registry import LOOPS as MMAGIC_LOOPS
from mmagic.registry import METRICS as MMAGIC_METRICS
from mmagic.registry import MODEL_WRAPPERS as MMAGIC_MODEL_WRAPPERS
from mmagic.registry import MODELS as MMAGIC_MODELS
from mmagic.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS
from mmagic.registry import OPTIM_WRAPPERS as MMAGIC_OPTIM_WRAPPERS
from mmagic.registry import PARAM_SCHEDULERS as MMAGIC_PARAM_SCHEDULERS
from mmagic.registry import RUNNERS as MMAGIC_RUNNERS
from mmagic.registry import TRANSFORMS as MMAGIC_TRANSFORMS
from mmagic.registry import VISBACKENDS as MMAGIC_VISBACKENDS
from mmagic.registry import VISUALIZERS as MMAGIC_VISUALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMAGIC_RUNNERS, locations=['rdid_mm.engine'])
LOOPS = Registry('loop', parent=MMAGIC_LOOPS, locations=['rdid_mm.engine'])
HOOKS = Registry('hook', parent=MMAGIC_HOOKS, locations=['rdid_mm.engine', 'rdid_mm.evaluation'])
MODELS = Registry('model', parent=MMAGIC_MODELS, locations=['rdid_mm.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMAGIC_MODEL_WRAPPERS, locations=['rdid_mm.models'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMAGIC_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMAGIC_PARAM_SCHEDULERS)
DATASETS = Registry('dataset', parent=MMAGIC_DATASETS, locations=['rdid_mm.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMAGIC_DATA_SAMPLERS, locations=['rdid_mm.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMAGIC_TRANSFORMS, locations=['rdid_mm.datasets', 'rdid_mm.deid'])
METRICS = Registry('metric', parent=MMAGIC_METRICS, locations=['rdid_mm.evaluation'])
EVALUATORS = Registry('evaluator', parent=MMAGIC_EVALUATORS, locations=['rdid_mm.evaluation'])
VISUALIZERS = Registry('visualizer', parent=MMAGIC_VISUALIZERS, locations=['rdid_mm.engine'])
VISBACKENDS = Registry('vis_backend', parent=MMAGIC_VISBACKENDS, locations=['rdid_mm.engine'])

FACE_SOURCES = Registry('face source', scope='rdid_mm', locations=['rdid_mm.deid.face_sources'])
