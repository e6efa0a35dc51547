"""Gradient synchronisation for GANs whose sub-networks are called past their DDP wrappers.

MMEngine's ``MMSeparateDistributedDataParallel`` wraps each sub-network (generators,
discriminators) in its own DDP, but mmagic's ``BaseTranslationModel.get_module`` returns the
module inside each wrapper, so ``DDP.forward`` never runs, the reducer never expects a backward and
no gradient is ever all-reduced: every rank trains its own model. Instead of routing every call
through the wrappers (a ``ModuleDict`` has no ``forward``, and mmagic's models call the networks
in many places), each optimiser wrapper averages the gradients of its own parameters over all
ranks right before it steps. That is one code path for gloo and NCCL (``torch.distributed
.all_reduce``), independent of how many forwards a network ran in the iteration (G(x) and G(F(y))
just accumulate into ``.grad``), and it comes before gradient clipping and AMP's unscale, which
therefore see the global gradient.

The ranks start from the same weights because of MMEngine, not the DDP wrappers: torch's DDP
broadcasts rank 0's parameters when a wrapper is built, but ``Runner.train`` then calls
``Runner._init_model_weights``, which runs ``init_weights()`` on every rank (drawing new weights
from each rank's RNG) and then ``mmengine.dist.broadcast``s every entry of the model's
``state_dict()`` from rank 0; ``load_from`` and ``--resume`` load the same file on every rank after
that. The wrappers stay because MMEngine builds them (``model_wrapper_cfg``); their ``forward``
never runs.
"""
import torch
import torch.distributed as dist
from mmengine.dist import get_world_size
from mmengine.model import MMSeparateDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from rdid_mm.utils.compat import cpu_model_wrapper_cfg, init_cpu_distributed

# Gradients are flattened into buckets of about this many bytes per all-reduce.
BUCKET_BYTES = 64 * 1024 * 1024


def needs_gradient_sync(model) -> bool:
    """True for a distributed run whose model wrapper does not all-reduce gradients itself."""
    return get_world_size() > 1 and isinstance(model, MMSeparateDistributedDataParallel)


def all_reduce_gradients(params, bucket_bytes: int = BUCKET_BYTES) -> int:
    """Replace each parameter's ``.grad`` with its mean over all ranks; return how many.

    Every rank reduces the same parameters in the same order, whatever its own graph used: one
    all-reduce of a has-gradient flag per parameter first, then a parameter with a gradient on
    some rank gets zeros on the ranks without one (DDP's rule for unused parameters: the mean
    over all ranks, a missing gradient counting as zero). Otherwise the flattened buckets would
    differ between ranks, and the all-reduce would hang or add unrelated gradients. A parameter
    without a gradient on every rank keeps ``grad=None`` (its optimiser skips it).
    """
    params = list(params)
    if not params:
        return 0
    has_grad = torch.tensor([float(p.grad is not None) for p in params],
                            device=params[0].device)
    dist.all_reduce(has_grad, op=dist.ReduceOp.MAX)
    for param, needed in zip(params, has_grad.tolist()):
        if needed and param.grad is None:
            param.grad = torch.zeros_like(param)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0
    world_size = get_world_size()
    for bucket in _buckets(grads, bucket_bytes):
        flat = _flatten_dense_tensors(bucket)
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat.div_(world_size)
        for grad, synced in zip(bucket, _unflatten_dense_tensors(flat, bucket)):
            grad.copy_(synced)
    return len(grads)


def _buckets(grads, bucket_bytes):
    """Consecutive groups of gradients of one dtype and device, up to ``bucket_bytes`` each."""
    bucket, size, key = [], 0, None
    for grad in grads:
        grad_key = (grad.dtype, grad.device)
        nbytes = grad.numel() * grad.element_size()
        if bucket and (grad_key != key or size + nbytes > bucket_bytes):
            yield bucket
            bucket, size = [], 0
        bucket.append(grad)
        size += nbytes
        key = grad_key
    if bucket:
        yield bucket


def _params_of(optim_wrapper: OptimWrapper):
    return [p for group in optim_wrapper.optimizer.param_groups for p in group['params']]


_SYNCED_CLASSES = {}


def _synced_class(cls):
    """``cls`` with a ``step`` that first averages the gradients of its parameters over ranks."""
    if cls not in _SYNCED_CLASSES:

        def step(self, *args, **kwargs):
            with torch.no_grad():
                all_reduce_gradients(_params_of(self))
            return super(synced, self).step(*args, **kwargs)

        synced = type(f'GradientSynced{cls.__name__}', (cls, ), dict(
            step=step, __module__=__name__, _rdid_gradient_sync=True,
            __doc__=f'{cls.__name__} that averages gradients over ranks before each step.'))
        _SYNCED_CLASSES[cls] = synced
    return _SYNCED_CLASSES[cls]


def sync_gradients_before_step(optim_wrapper) -> None:
    """Make every optimiser wrapper in ``optim_wrapper`` average gradients over ranks before it
    steps.

    Works for any ``OptimWrapper`` subclass (``AmpOptimWrapper`` too): the instance's class becomes
    a subclass whose ``step`` all-reduces first (``isinstance`` checks and MMEngine's
    parameter-scheduler step counter keep working); a wrapper synchronised already is left alone,
    so one built again on resume does not average twice.
    """
    wrappers = optim_wrapper.values() if isinstance(optim_wrapper, OptimWrapperDict) else [
        optim_wrapper]
    for wrapper in wrappers:
        if not getattr(wrapper, '_rdid_gradient_sync', False):
            wrapper.__class__ = _synced_class(type(wrapper))


def prepare_distributed(cfg) -> None:
    """Start gloo for CPU-only distributed runs and make DDP accept CPU modules."""
    if init_cpu_distributed(cfg.launcher):
        cfg.model_wrapper_cfg = cpu_model_wrapper_cfg(cfg.get('model_wrapper_cfg'))
