"""What every section of the GPU check shares: the goal's constants, device synchronisation and
memory figures, the timing of the models' real ``train_step``, and the model builder of
tools/analysis_tools/benchmark_train_step.py (each config's model and optimiser wrappers)."""
import importlib.util
import os
import os.path as osp
import socket
import sys
import time

KIT_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(KIT_DIR))

# The project's throughput goal (issue 14): ~1.3 TFLOP per 256x256 training sample; at least 210
# images/s on one H100/H200-class GPU (about 35% of the bf16 FLOP limit) and at least 2x mmagic's
# CycleGAN in fp32 in the same run.
FLOP_PER_SAMPLE_256 = 1.3e12
NOMINAL_BF16_FLOPS = 790e12  # an 8192^3 bf16 product on an H200 here (KINDS.md, 2026-10-28)
TARGET_IMAGES_PER_S = 210.0
TARGET_SPEEDUP_VS_CYCLEGAN_FP32 = 2.0
MODELS = ('RDID-GAN', 'CycleGAN')
# Tiny networks for --dry-run (the same classes and code paths, fewer channels and blocks).
TINY_MODEL = {'generator.base_channels': 8, 'generator.num_blocks': 2,
              'discriminator.base_channels': 8}
# Seconds kept back for the sections after ``train``'s first configurations.
RESERVE_S = {'ddp': 45.0, 'restore': 40.0, 'profile': 30.0}


def load_benchmark_module():
    """``tools/analysis_tools/benchmark_train_step.py`` (model building and the random batch)."""
    path = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark_train_step.py')
    spec = importlib.util.spec_from_file_location('benchmark_train_step', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sync(device):
    import torch
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def reset_memory(device):
    import gc

    import torch
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device):
    import torch
    if device.type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def flop_limit(report):
    """FLOP/s the fractions refer to: the measured bf16 rate, else the nominal one."""
    ceiling = report.data['sections'].get('ceiling') or {}
    return ceiling.get('bf16_flops') or NOMINAL_BF16_FLOPS


def imported_distributions():
    """({distribution: [top-level modules]}, [unmapped modules], {module: path}) of the imports.

    Leaves out the standard library and the repository's own code (rdid_mm and this kit travel as
    source). The test suite checks these against the wheelhouse manifest and the GPU image.
    """
    import importlib.metadata as metadata
    top_levels = {name.split('.')[0] for name in list(sys.modules)}
    owners = metadata.packages_distributions()
    found, paths = {}, {}
    unmapped = []
    for top in sorted(top_levels):
        if top in sys.stdlib_module_names or top in sys.builtin_module_names or top == '__main__':
            continue
        module = sys.modules.get(top)
        path = getattr(module, '__file__', None) or next(
            iter(getattr(module, '__path__', None) or []), '')  # namespace packages: no file
        if path.startswith(REPO_ROOT + os.sep) and 'site-packages' not in path:
            continue
        paths[top] = path
        parts = path.split(os.sep)
        if '_vendor' in parts:  # a package vendored by another (setuptools' jaraco, ...)
            top = parts[parts.index('_vendor') - 1]
        if top not in owners:  # compiled helpers, generated modules, shims without metadata
            unmapped.append(top)
        for dist in owners.get(top, []):
            root = str(metadata.distribution(dist).locate_file('')).split(os.sep)
            if '_vendor' in root:  # its metadata lies in another package's _vendor folder
                dist = owners.get(root[root.index('_vendor') - 1], [dist])[0]
            found[dist] = sorted(set(found.get(dist, [])) | {top})
    return found, unmapped, paths


def time_steps(model, optim_wrapper, batch, steps, warmup, device):
    """Median seconds of ``train_step`` over ``steps`` after ``warmup`` (synchronised per step)."""
    from mmengine import MessageHub
    message_hub = MessageHub.get_current_instance()
    times = []
    for step in range(warmup + steps):
        message_hub.update_info('iter', step)
        sync(device)
        start = time.perf_counter()
        model.train_step(batch, optim_wrapper)
        sync(device)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return times


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
