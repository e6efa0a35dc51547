"""The GPU check: training and restoration speed of RDID-GAN (and mmagic's CycleGAN) in one run.

Run on the lent GPU machine through ``run_gpu_check.sh`` (which installs the carried wheelhouse
first); here, ``--dry-run --device cpu`` runs every section at tiny sizes (the test suite does).
Sections, in the order they run (each one is timed against ``--time-budget``; what does not fit is
skipped with a note, never silently):

- ``env``: versions, the card, whether mmcv's compiled ops are real or stubbed (mmcv_ops_stub.py);
- ``ceiling``: the bf16 matrix-product rate of this card (the FLOP limit the fractions refer to);
- ``flops``: FLOPs of one training sample of each model, counted by ``torch.utils.flop_counter``;
- ``train``: median train-step time, images/s, peak memory and fraction of the FLOP limit of
  RDID-GAN and CycleGAN, fp32 / bf16 autocast (MMEngine's ``AmpOptimWrapper``), with and without
  channels_last, at each batch size (the most important configurations first);
- ``ddp``: synchronised training steps on one GPU over NCCL (gloo on CPU) with the Runner that
  ``tools/dist_train.sh`` builds (``rdid_mm.apis.train.build_runner``) and its optimiser wrapper,
  counting the gradient all-reduces of one step;
- ``restore``: whole-image and region-mode restoration throughput on copies of the de-identified
  sample (COCO sizes);
- ``profile`` (``--profile``): where the time of one training step goes (top ops).

Writes ``gpu_check.json`` and ``gpu_check.md`` into ``--out`` after every section (atomically), so
a run cut short still leaves what it measured.
"""
import argparse
import datetime
import importlib.util
import json
import logging
import os
import os.path as osp
import platform
import socket
import statistics
import sys
import tempfile
import time
import traceback

KIT_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(KIT_DIR))
sys.path.insert(0, KIT_DIR)
import mmcv_ops_stub  # noqa: E402  (before anything imports mmcv.ops)

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
# {distribution: [modules]} imported by the DDP section's own process
CHILD_IMPORTS = {}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='folder for gpu_check.json / gpu_check.md')
    parser.add_argument('--device', default=None, help='cuda (default when visible) or cpu')
    parser.add_argument('--dry-run', action='store_true',
                        help='tiny networks and sizes, a few steps: the CPU test of the kit')
    parser.add_argument('--size', type=int, help='training crop (default 256; dry run 32)')
    parser.add_argument('--batch-sizes', type=int, nargs='+', help='default 8 32; dry run 1 2')
    parser.add_argument('--steps', type=int, help='timed steps per configuration (default 10)')
    parser.add_argument('--warmup', type=int, help='untimed steps first (default 3)')
    parser.add_argument('--ddp-steps', type=int, help='timed DDP steps (default 5)')
    parser.add_argument('--deid-sample', help='a builder output folder (faces.json, mosaic/s8)')
    parser.add_argument('--strength', type=int, default=8, help='mosaic strength to restore')
    parser.add_argument('--restore-copies', type=int, help='sample images restored (default 32)')
    parser.add_argument('--region-size', type=int, default=256,
                        help='face crops are resized to this square for region mode')
    parser.add_argument('--profile', action='store_true', help='profile one training step')
    parser.add_argument('--sections', nargs='+',
                        default=['env', 'ceiling', 'flops', 'train', 'ddp', 'restore', 'profile'])
    parser.add_argument('--time-budget', type=float, default=420.0,
                        help='seconds for all sections; later configurations are skipped with a '
                        'note when the rest would not fit (default 420: 7 min)')
    parser.add_argument('--ddp-launch', choices=['torchrun', 'inline'], default='torchrun',
                        help='torchrun: the DDP section runs in its own process started as '
                        'tools/dist_train.sh starts training (python -m torch.distributed.run '
                        '--nproc_per_node 1), under a timeout; inline: in this process')
    parser.add_argument('--force-mmcv-stub', action='store_true',
                        help="stand in for mmcv._ext even when it exists (tests the kit's shim)")
    args = parser.parse_args(argv)
    tiny = args.dry_run
    defaults = dict(size=32 if tiny else 256, batch_sizes=[1, 2] if tiny else [8, 32],
                    steps=2 if tiny else 10, warmup=1 if tiny else 3, ddp_steps=2 if tiny else 5,
                    restore_copies=2 if tiny else 32)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.size % 4:
        parser.error(f'--size must be a multiple of 4, got {args.size}')
    if args.dry_run and args.region_size == 256:
        args.region_size = 32
    return args


class Report:
    """The run's figures, written as JSON and a markdown table after every section."""

    def __init__(self, out_dir, args):
        self.out_dir = out_dir
        self.data = dict(
            started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            command=' '.join([osp.relpath(sys.argv[0], REPO_ROOT)] + sys.argv[1:]),
            dry_run=args.dry_run, size=args.size, batch_sizes=args.batch_sizes, steps=args.steps,
            warmup=args.warmup, time_budget_s=args.time_budget, sections={}, skipped=[],
            errors=[])

    def section(self, name, value):
        self.data['sections'][name] = value
        self.write()

    def skip(self, what, why):
        self.data['skipped'].append(dict(what=what, why=why))
        print(f'[gpu_check] skipped {what}: {why}', flush=True)

    def error(self, what, err):
        self.data['errors'].append(dict(what=what, error=f'{type(err).__name__}: {err}',
                                        traceback=traceback.format_exc(limit=8)))
        print(f'[gpu_check] ERROR in {what}: {type(err).__name__}: {err}', flush=True)

    def write(self):
        from rdid_mm.deid.atomic import write_file_atomic
        os.makedirs(self.out_dir, exist_ok=True)
        write_file_atomic(osp.join(self.out_dir, 'gpu_check.json'),
                          json.dumps(self.data, indent=1, default=str).encode())
        write_file_atomic(osp.join(self.out_dir, 'gpu_check.md'), markdown(self.data).encode())


class Budget:
    """Wall-clock budget of the whole run."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()


# ---------------------------------------------------------------------------- helpers
def load_benchmark_module():
    """``tools/benchmark_train_step.py`` (model building and the random batch)."""
    path = osp.join(REPO_ROOT, 'tools', 'benchmark_train_step.py')
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


# ---------------------------------------------------------------------------- sections
def section_env(args, device, report):
    import torch
    info = dict(python=platform.python_version(), torch=torch.__version__,
                cuda=torch.version.cuda, device=str(device), host=socket.gethostname(),
                mmcv_ops='stub (mmcv_ops_stub.py: compiled ops raise when called)'
                if mmcv_ops_stub.installed() else 'compiled mmcv._ext')
    for name in ('mmengine', 'mmcv', 'mmagic', 'numpy', 'cv2', 'torchvision'):
        try:
            info[name] = __import__(name).__version__
        except Exception as err:  # noqa: BLE001  (report, do not stop)
            info[name] = f'unavailable: {err}'
    if device.type == 'cuda':
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count,
                    capability=f'{props.major}.{props.minor}')
    info['threads'] = torch.get_num_threads()
    return info


def section_ceiling(args, device, report):
    """The bf16 (CUDA) or fp32 (CPU) matrix-product rate: 10 timed products after 3 warm-ups."""
    import torch
    n = 8192 if device.type == 'cuda' else 256
    dtype = torch.bfloat16 if device.type == 'cuda' else torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    for _ in range(3):
        a @ b
    sync(device)
    times = []
    for _ in range(10):
        start = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - start)
    rate = 2 * n**3 / statistics.median(times)
    out = dict(matmul=f'{n}x{n}x{n} {str(dtype).split(".")[-1]}, random data',
               median_s=statistics.median(times), flops=rate)
    if device.type == 'cuda':
        out['bf16_flops'] = rate
    out['note'] = ('fractions below use this rate' if device.type == 'cuda' else
                   f'CPU: fractions use the nominal H200 bf16 rate {NOMINAL_BF16_FLOPS:.3g}')
    return out


def section_flops(args, device, report, bench):
    """FLOPs of one training step per sample (forward and backward of every network)."""
    import torch
    from mmengine import MessageHub
    from torch.utils.flop_counter import FlopCounterMode
    MessageHub.get_current_instance().update_info('iter', 0)
    overrides = TINY_MODEL if args.dry_run else None
    out = {}
    batch = bench.random_batch(1, args.size)
    for name in MODELS:
        model, optim_wrapper = bench.build_model(name, device, model_overrides=overrides)
        model.train_step(batch, optim_wrapper)  # the image buffers fill on the first step
        with FlopCounterMode(display=False) as counter:
            model.train_step(batch, optim_wrapper)
        flops = counter.get_total_flops()
        out[name] = dict(flop_per_sample=flops,
                         flop_per_sample_at_256=flops * (256 / args.size)**2)
        del model, optim_wrapper
        reset_memory(device)
    out['assumed_flop_per_sample_256'] = FLOP_PER_SAMPLE_256
    out['note'] = ('counted by torch.utils.flop_counter on one train_step at batch 1 (matrix and '
                   'convolution FLOPs, forward + backward); at_256 scales by area')
    torch.manual_seed(0)
    return out


def train_configs(args, device):
    """(model, amp, channels_last, batch) in order of importance for the throughput goal."""
    amps = ['bf16', 'none'] if device.type == 'cuda' else ['none']
    configs = []
    for batch in sorted(args.batch_sizes, reverse=True):
        configs += [('RDID-GAN', 'bf16', True, batch), ('CycleGAN', 'none', False, batch),
                    ('RDID-GAN', 'none', False, batch), ('CycleGAN', 'bf16', True, batch)]
        for name in MODELS:
            for amp in ('none', 'bf16'):
                for channels_last in (False, True):
                    configs.append((name, amp, channels_last, batch))
    seen, ordered = set(), []
    for config in configs:
        if config not in seen and config[1] in amps:
            seen.add(config)
            ordered.append(config)
    return ordered


def run_train_config(args, device, report, bench, config):
    import torch
    name, amp, channels_last, batch_size = config
    reset_memory(device)
    torch.manual_seed(0)
    overrides = TINY_MODEL if args.dry_run else None
    model, optim_wrapper = bench.build_model(name, device, amp, channels_last, overrides)
    batch = bench.random_batch(batch_size, args.size)
    times = time_steps(model, optim_wrapper, batch, args.steps, args.warmup, device)
    median = statistics.median(times)
    flops = (report.data['sections'].get('flops') or {}).get(name, {})
    flop_per_sample = flops.get('flop_per_sample_at_256', FLOP_PER_SAMPLE_256) * (
        args.size / 256)**2
    images_per_s = batch_size / median
    row = dict(model=name, precision='bf16 autocast' if amp == 'bf16' else 'fp32',
               amp=amp, channels_last=channels_last, batch=batch_size, size=args.size,
               median_step_s=median, min_step_s=min(times), max_step_s=max(times),
               images_per_s=images_per_s, peak_memory_gib=peak_memory_gib(device),
               flop_fraction=images_per_s * flop_per_sample / flop_limit(report),
               flop_fraction_assumed=images_per_s * FLOP_PER_SAMPLE_256 * (args.size / 256)**2
               / flop_limit(report))
    del model, optim_wrapper
    reset_memory(device)
    return row


def section_train(args, device, report, bench, budget, configs, reserve):
    import torch
    torch.backends.cudnn.benchmark = True  # training runs at a fixed crop size (the config's)
    rows = report.data['sections'].setdefault('train', dict(rows=[]))['rows']
    last_cost = 0.0
    for config in configs:
        what = 'train {} {} channels_last={} batch={}'.format(*config)
        if budget.left() - reserve < last_cost * 1.2:
            report.skip(what, f'time budget: {budget.left():.0f} s left, the last configuration '
                        f'took {last_cost:.0f} s')
            continue
        start = time.monotonic()
        try:
            row = run_train_config(args, device, report, bench, config)
        except Exception as err:  # noqa: BLE001  (one failed configuration must not end the run)
            report.error(what, err)
            reset_memory(device)
            continue
        finally:
            last_cost = time.monotonic() - start
        rows.append(row)
        print('[gpu_check] {model} {precision} cl={channels_last} b={batch}: {median_step_s:.4f} '
              's/step {images_per_s:.1f} img/s'.format(**row), flush=True)
        report.data['sections']['train']['verdict'] = verdict(rows)
        report.write()


def verdict(rows):
    """The throughput goal read against the rows so far."""
    rdid = [r for r in rows if r['model'] == 'RDID-GAN']
    cyclegan_fp32 = [r for r in rows if r['model'] == 'CycleGAN' and r['amp'] == 'none']
    if not rdid:
        return dict(note='no RDID-GAN row')
    best = max(rdid, key=lambda r: r['images_per_s'])
    out = dict(best_rdid_gan={k: best[k] for k in ('precision', 'channels_last', 'batch',
                                                   'images_per_s')},
               target_images_per_s=TARGET_IMAGES_PER_S,
               meets_images_per_s=best['images_per_s'] >= TARGET_IMAGES_PER_S)
    if cyclegan_fp32:
        ref = max(cyclegan_fp32, key=lambda r: r['images_per_s'])
        speedup = best['images_per_s'] / ref['images_per_s']
        out.update(best_cyclegan_fp32_images_per_s=ref['images_per_s'],
                   speedup_vs_cyclegan_fp32=speedup,
                   target_speedup=TARGET_SPEEDUP_VS_CYCLEGAN_FP32,
                   meets_speedup=speedup >= TARGET_SPEEDUP_VS_CYCLEGAN_FP32)
    return out


def count_allreduces(profiler):
    """All-reduce collectives recorded by ``profiler`` (DDP issues one per gradient bucket).

    Each shows as a dispatched ``c10d::allreduce_`` and as the backend's ``nccl:all_reduce`` /
    ``gloo:all_reduce``; the larger of the two counts is returned.
    """
    names = [event.name for event in profiler.events()]
    dispatched = sum(1 for name in names if name == 'c10d::allreduce_')
    backend = sum(1 for name in names if name in ('nccl:all_reduce', 'gloo:all_reduce'))
    return max(dispatched, backend)


def section_ddp(args, device, report, bench):
    """Synchronised steps through the Runner that tools/dist_train.sh builds, world size 1."""
    import torch
    import torch.distributed as dist
    from mmengine import MessageHub
    from torch.profiler import ProfilerActivity, profile

    from rdid_mm.apis.train import build_runner, load_config
    # torchrun sets these; inline, a world of one process
    env = dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()), RANK='0', WORLD_SIZE='1',
               LOCAL_RANK='0')
    saved = {key: os.environ.get(key) for key in env}
    for key, value in env.items():
        os.environ.setdefault(key, value)
    batch_size = max(args.batch_sizes) if args.dry_run else 8
    work_dir = tempfile.mkdtemp(prefix='gpu_check_ddp_')
    options = {f'model.{key}': value for key, value in (TINY_MODEL if args.dry_run else {}).items()}
    try:
        cfg = load_config(bench.RDID_GAN_CONFIG, work_dir=work_dir, cfg_options=options,
                          launcher='pytorch')
        optim_cfg = cfg.optim_wrapper.to_dict()
        # No data loaders, loops or evaluators: the step is fed a random batch directly, as
        # IterBasedTrainLoop.run_iter calls it (runner.model.train_step(batch, optim_wrapper)).
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                    'val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                    'test_evaluator'):
            cfg[key] = None
        cfg.custom_hooks = []
        cfg.log_level = 'WARNING'
        runner = build_runner(cfg)
        optim_wrapper = runner.build_optim_wrapper(optim_cfg)
        runner._init_model_weights()
        model = runner.model
        batch = bench.random_batch(batch_size, args.size)
        message_hub = MessageHub.get_current_instance()
        for step in range(args.warmup):
            message_hub.update_info('iter', step)
            model.train_step(batch, optim_wrapper=optim_wrapper)
        activities = [ProfilerActivity.CPU] + (
            [ProfilerActivity.CUDA] if device.type == 'cuda' else [])
        message_hub.update_info('iter', args.warmup)
        with profile(activities=activities) as prof:
            model.train_step(batch, optim_wrapper=optim_wrapper)
            sync(device)
        allreduces = count_allreduces(prof)
        times = []
        for step in range(args.ddp_steps):
            message_hub.update_info('iter', args.warmup + 1 + step)
            sync(device)
            start = time.perf_counter()
            model.train_step(batch, optim_wrapper=optim_wrapper)
            sync(device)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        return dict(
            backend=dist.get_backend(), world_size=dist.get_world_size(),
            wrapper=type(model).__name__, batch=batch_size, size=args.size, precision='fp32',
            median_step_s=median, images_per_s=batch_size / median,
            allreduces_in_one_step=allreduces, gradients_synchronised=allreduces > 0,
            note='runner = rdid_mm.apis.train.build_runner(cfg) with launcher=pytorch, as '
            'tools/dist_train.sh; step = runner.model.train_step(batch, optim_wrapper) as '
            "MMEngine's IterBasedTrainLoop; all-reduces counted by torch.profiler in one step")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        torch.backends.cudnn.benchmark = True


def ddp_in_torchrun(args, device, budget, plan):
    """The DDP section in a process of its own, started as tools/dist_train.sh starts training
    (``python -m torch.distributed.run --nproc_per_node 1``), killed if it outlives its share of
    the budget (a hung process-group start must not cost the other sections)."""
    import subprocess
    later = sum(RESERVE_S[n] for n in ('restore', 'profile') if n in plan)
    timeout = budget.left() - later
    timeout = max(timeout if args.dry_run else min(timeout, 180.0), 30.0)
    out = tempfile.mkdtemp(prefix='gpu_check_ddp_out_')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '1',
           '--master_addr', '127.0.0.1', '--master_port', str(free_port()), osp.abspath(__file__),
           '--out', out, '--sections', 'ddp', '--ddp-launch', 'inline', '--device', device.type,
           '--size', str(args.size), '--batch-sizes', *map(str, args.batch_sizes),
           '--warmup', str(args.warmup), '--ddp-steps', str(args.ddp_steps),
           '--time-budget', str(timeout)]
    cmd += ['--dry-run'] * args.dry_run + ['--force-mmcv-stub'] * args.force_mmcv_stub
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f'the torchrun process did not finish within {timeout:.0f} s')
    report_file = osp.join(out, 'gpu_check.json')
    if not osp.isfile(report_file):
        raise RuntimeError(f'torchrun exited {result.returncode} without a report:\n'
                           + result.stderr[-2000:])
    with open(report_file) as f:
        inner = json.load(f)
    if inner['errors']:
        raise RuntimeError(inner['errors'][0]['error'] + '\n' + inner['errors'][0]['traceback'])
    value = inner['sections']['ddp']
    for dist, modules in inner['imported_distributions'].items():  # reported with this process's
        CHILD_IMPORTS[dist] = sorted(set(CHILD_IMPORTS.get(dist, [])) | set(modules))
    value['launcher'] = 'python -m torch.distributed.run --nproc_per_node 1 (as dist_train.sh)'
    return value


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def load_sample(deid_sample, strength, copies):
    """[(name, mosaic RGB uint8 HxWx3, face boxes [x, y, w, h])] repeated to ``copies`` images."""
    import cv2
    faces_file = osp.join(deid_sample, 'faces.json')
    if not osp.isfile(faces_file):
        raise FileNotFoundError(f'{faces_file}: no faces.json (--deid-sample must be a builder '
                                'output folder)')
    with open(faces_file) as f:
        faces = json.load(f)
    images = []
    for file_name in sorted(faces):
        stem = osp.splitext(file_name)[0]
        candidates = [osp.join(deid_sample, 'mosaic', f's{strength}', stem + ext)
                      for ext in ('.png', '.jpg')]
        path = next((p for p in candidates if osp.isfile(p)), None)
        if path is None:
            raise FileNotFoundError(f'{candidates[0]}: mosaic of {file_name} at strength '
                                    f'{strength} is missing')
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'{path}: not a readable image')
        boxes = [box[:4] for box in faces[file_name]]
        images.append((file_name, cv2.cvtColor(img, cv2.COLOR_BGR2RGB), boxes))
    if not images:
        raise ValueError(f'{faces_file}: lists no images')
    return [images[i % len(images)] for i in range(copies)]


def to_input(img, device):
    """uint8 HxWx3 -> normalised float (1, 3, H, W) on ``device`` (the data preprocessor's)."""
    import torch
    tensor = torch.from_numpy(img).to(device, non_blocking=True).permute(2, 0, 1)[None]
    return (tensor.float() - 127.5) / 127.5


def to_uint8(tensor):
    return ((tensor.float() * 127.5 + 127.5).clamp(0, 255).round().to(
        __import__('torch').uint8))


def restore_whole(model, images, device):
    """Every image through the generator at full resolution (``RDIDGAN.restore_tensor``)."""
    outputs = []
    for _, img, _ in images:
        fake = model.restore_tensor(to_input(img, device))
        outputs.append(to_uint8(fake[0]).permute(1, 2, 0).cpu().numpy())
    return outputs


def region_crops(img, boxes, context=0.5):
    """(crop slices, paste slices relative to the crop) for each box, ``context`` * size added."""
    from rdid_mm.models.face_paste import box_to_slices
    height, width = img.shape[:2]
    out = []
    for x, y, w, h in boxes:
        grow_w, grow_h = w * context / 2, h * context / 2
        rows, cols = box_to_slices((x - grow_w, y - grow_h, w + 2 * grow_w, h + 2 * grow_h),
                                   height, width)
        box_rows, box_cols = box_to_slices((x, y, w, h), height, width)
        if rows.stop <= rows.start or cols.stop <= cols.start:
            continue
        out.append(((rows, cols), (slice(box_rows.start - rows.start, box_rows.stop - rows.start),
                                   slice(box_cols.start - cols.start, box_cols.stop - cols.start))))
    return out


def restore_regions(model, images, device, region_size, batch_size=32):
    """Region mode (a local stand-in for issue 10's rdid_mm.restore): each face box is cropped
    with context, resized to ``region_size``, the crops of all images batched through the
    generator, resized back and pasted inside the box; the rest of each image is left as is."""
    import torch
    import torch.nn.functional as F
    jobs = []
    for index, (_, img, boxes) in enumerate(images):
        for crop, paste in region_crops(img, boxes):
            jobs.append((index, crop, paste))
    outputs = [img.copy() for _, img, _ in images]
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        crops = [to_input(images[i][1][crop[0], crop[1]], device) for i, crop, _ in chunk]
        sizes = [c.shape[-2:] for c in crops]
        batch = torch.cat([F.interpolate(c, size=(region_size, region_size), mode='bilinear',
                                         align_corners=False) for c in crops])
        fake = model.restore_tensor(batch)
        for (index, crop, paste), size, out in zip(chunk, sizes, fake):
            back = F.interpolate(out[None].float(), size=tuple(size), mode='bilinear',
                                 align_corners=False)[0]
            patch = to_uint8(back).permute(1, 2, 0).cpu().numpy()
            region = outputs[index][crop[0], crop[1]]
            region[paste[0], paste[1]] = patch[paste[0], paste[1]]
    return outputs, len(jobs)


def section_restore(args, device, report, bench):
    import torch
    if not args.deid_sample:
        raise ValueError('--deid-sample is not set (run_gpu_check.sh passes the carried sample)')
    images = load_sample(args.deid_sample, args.strength, args.restore_copies)
    torch.backends.cudnn.benchmark = False  # image sizes vary (as the config's val/test)
    model, _ = bench.build_model('RDID-GAN', device,
                                 model_overrides=TINY_MODEL if args.dry_run else None)
    model.eval()
    pixels = sum(img.shape[0] * img.shape[1] for _, img, _ in images)
    rows = []
    precisions = ['fp32', 'bf16'] if device.type == 'cuda' else ['fp32']
    for precision in precisions:
        for mode in ('whole-image', 'region'):
            reset_memory(device)
            autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                      enabled=precision == 'bf16')
            with torch.no_grad(), autocast:
                run = (lambda: restore_whole(model, images, device)) if mode == 'whole-image' \
                    else (lambda: restore_regions(model, images, device, args.region_size))
                run()  # warm-up (kernel selection, allocator)
                sync(device)
                start = time.perf_counter()
                result = run()
                sync(device)
                seconds = time.perf_counter() - start
            row = dict(mode=mode, precision=precision, images=len(images),
                       megapixels=pixels / 1e6, seconds=seconds,
                       images_per_s=len(images) / seconds, peak_memory_gib=peak_memory_gib(device))
            if mode == 'region':
                row['regions'] = result[1]
                row['region_size'] = args.region_size
            rows.append(row)
    for precision in precisions:
        pair = {r['mode']: r for r in rows if r['precision'] == precision}
        if len(pair) == 2:
            pair['region']['speedup_vs_whole'] = (pair['region']['images_per_s']
                                                  / pair['whole-image']['images_per_s'])
    torch.backends.cudnn.benchmark = True
    sizes = sorted({f'{img.shape[1]}x{img.shape[0]}' for _, img, _ in images})
    return dict(rows=rows, image_sizes=sizes, sample=args.deid_sample, strength=args.strength,
                note='random weights (throughput does not depend on them); timed from decoded '
                'uint8 images in memory to restored uint8 images (host-device copies included, '
                'file reading and writing not); region mode is a local stand-in for issue 10')


def section_profile(args, device, report, bench):
    """One training step of the fastest RDID-GAN configuration under torch.profiler."""
    from mmengine import MessageHub
    from torch.profiler import ProfilerActivity, profile
    rows = [r for r in (report.data['sections'].get('train') or {}).get('rows', [])
            if r['model'] == 'RDID-GAN']
    if rows:
        best = max(rows, key=lambda r: r['images_per_s'])
        amp, channels_last, batch_size = best['amp'], best['channels_last'], best['batch']
    else:
        amp, channels_last, batch_size = 'none', False, min(args.batch_sizes)
    reset_memory(device)
    model, optim_wrapper = bench.build_model('RDID-GAN', device, amp, channels_last,
                                             TINY_MODEL if args.dry_run else None)
    batch = bench.random_batch(batch_size, args.size)
    time_steps(model, optim_wrapper, batch, 1, args.warmup, device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda'
                                           else [])
    MessageHub.get_current_instance().update_info('iter', args.warmup + 1)
    with profile(activities=activities, record_shapes=False) as prof:
        model.train_step(batch, optim_wrapper)
        sync(device)
    key = 'self_device_time_total' if device.type == 'cuda' else 'self_cpu_time_total'
    averages = prof.key_averages()
    total = sum(getattr(e, key, 0.0) for e in averages) or 1.0
    top = sorted(averages, key=lambda e: getattr(e, key, 0.0), reverse=True)[:15]
    del model, optim_wrapper
    reset_memory(device)
    return dict(
        config=dict(amp=amp, channels_last=channels_last, batch=batch_size, size=args.size),
        sort_by=key, total_ms=total / 1e3,
        top_ops=[dict(name=e.key, self_ms=getattr(e, key, 0.0) / 1e3, calls=e.count,
                      share=getattr(e, key, 0.0) / total) for e in top],
        table=profile_table(averages, key))


def profile_table(averages, key):
    """torch.profiler's own table (its column names vary between torch versions)."""
    try:
        return averages.table(sort_by=key, row_limit=15, max_name_column_width=60)
    except Exception as err:  # noqa: BLE001  (the top_ops list above holds the figures)
        return f'no table: {type(err).__name__}: {err}'


# ---------------------------------------------------------------------------- markdown
def _fmt(value, digits=3):
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}g}' if abs(value) < 1000 else f'{value:.0f}'
    return str(value)


def markdown(data):
    sections = data['sections']
    env = sections.get('env', {})
    lines = [f"# GPU check {data['started']}", '',
             f"`{data['command']}`", '',
             f"card: {env.get('gpu', env.get('device', '?'))}; torch {env.get('torch', '?')} "
             f"(CUDA {env.get('cuda', '-')}); Python {env.get('python', '?')}; mmcv ops: "
             f"{env.get('mmcv_ops', '?')}; dry run: {data['dry_run']}", '']
    ceiling = sections.get('ceiling')
    if ceiling:
        lines += [f"FLOP limit: {ceiling['matmul']}: {ceiling['flops'] / 1e12:.1f} TFLOP/s "
                  f"({ceiling['note']})", '']
    flops = sections.get('flops')
    if flops:
        lines += ['FLOP per 256x256 training sample (counted): ' + ', '.join(
            f"{name} {flops[name]['flop_per_sample_at_256'] / 1e12:.2f} T"
            for name in MODELS if name in flops)
            + f" (the goal assumes {FLOP_PER_SAMPLE_256 / 1e12} T)",
            '']
    train = sections.get('train')
    if train and train.get('rows'):
        lines += ['| model | precision | channels_last | batch | median step (s) | images/s | '
                  'peak mem (GiB) | FLOP fraction (counted) | FLOP fraction (1.3 T) |',
                  '|---|---|---|---|---|---|---|---|---|']
        for r in train['rows']:
            lines.append(f"| {r['model']} | {r['precision']} | {r['channels_last']} | {r['batch']} "
                         f"| {_fmt(r['median_step_s'], 4)} | {_fmt(r['images_per_s'])} | "
                         f"{_fmt(r['peak_memory_gib'])} | {_fmt(r['flop_fraction'], 2)} | "
                         f"{_fmt(r['flop_fraction_assumed'], 2)} |")
        v = train.get('verdict', {})
        if 'best_rdid_gan' in v:
            best = v['best_rdid_gan']
            goal = (f"Goal: best RDID-GAN {best['images_per_s']:.1f} images/s "
                    f"({best['precision']}, channels_last={best['channels_last']}, batch "
                    f"{best['batch']}) vs target {TARGET_IMAGES_PER_S:.0f}: "
                    f"{'met' if v['meets_images_per_s'] else 'NOT met'}")
            if 'speedup_vs_cyclegan_fp32' in v:
                goal += (f"; {v['speedup_vs_cyclegan_fp32']:.2f}x the best CycleGAN fp32 "
                         f"({v['best_cyclegan_fp32_images_per_s']:.1f} images/s) vs target "
                         f"{TARGET_SPEEDUP_VS_CYCLEGAN_FP32}x: "
                         f"{'met' if v['meets_speedup'] else 'NOT met'}")
            lines += ['', goal]
        lines.append('')
    ddp = sections.get('ddp')
    if ddp:
        lines += [f"DDP ({ddp['backend']}, world size {ddp['world_size']}, {ddp['wrapper']}): "
                  f"{_fmt(ddp['median_step_s'], 4)} s/step, {_fmt(ddp['images_per_s'])} images/s "
                  f"at batch {ddp['batch']} {ddp['precision']}; gradient all-reduces in one step: "
                  f"{ddp['allreduces_in_one_step']} ("
                  f"{'synchronised' if ddp['gradients_synchronised'] else 'NOT synchronised'})", '']
    restore = sections.get('restore')
    if restore:
        lines += [f"Restoration ({len(restore['rows']) and restore['rows'][0]['images']} images, "
                  f"sizes {', '.join(restore['image_sizes'])}):", '',
                  '| mode | precision | images/s | seconds | peak mem (GiB) | region / whole |',
                  '|---|---|---|---|---|---|']
        for r in restore['rows']:
            lines.append(f"| {r['mode']} | {r['precision']} | {_fmt(r['images_per_s'])} | "
                         f"{_fmt(r['seconds'])} | {_fmt(r['peak_memory_gib'])} | "
                         f"{_fmt(r.get('speedup_vs_whole'))} |")
        lines.append('')
    profile_data = sections.get('profile')
    if profile_data:
        lines += [f"Profile of one RDID-GAN step ({profile_data['config']}), top ops by "
                  f"{profile_data['sort_by']}:", '', '| op | self ms | calls | share |',
                  '|---|---|---|---|']
        for op in profile_data['top_ops']:
            lines.append(f"| {op['name'][:60]} | {op['self_ms']:.2f} | {op['calls']} | "
                         f"{op['share']:.1%} |")
        lines.append('')
    for item in data['skipped']:
        lines.append(f"- skipped {item['what']}: {item['why']}")
    for item in data['errors']:
        lines.append(f"- ERROR {item['what']}: {item['error']}")
    if data.get('finished'):
        lines.append(f"\nfinished in {data['elapsed_s']:.0f} s")
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    budget = Budget(args.time_budget)
    stub = mmcv_ops_stub.install(force=args.force_mmcv_stub)
    import torch
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('gpu_check.py: error: --device cuda but no CUDA device is visible')
    if device.type == 'cuda':
        if device.index is None:
            device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
        torch.cuda.set_device(device)
    from mmengine.registry import init_default_scope

    import rdid_mm.models  # noqa: F401  (registers the models)
    init_default_scope('rdid_mm')
    # MMEngine logs every parameter's initialisation at INFO: keep the device tool's output tail
    # (the last 12,000 characters) for the figures.
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    bench = load_benchmark_module()
    report = Report(args.out, args)
    wanted = [s for s in args.sections if s != 'profile' or args.profile]
    configs = train_configs(args, device)
    # The four configurations the goal is read from first, then the other sections, then the rest.
    order = ['env', 'ceiling', 'flops', 'train-core', 'ddp', 'restore', 'train-rest', 'profile']
    plan = [name for name in order if name.split('-')[0] in wanted]
    runners = dict(env=lambda: section_env(args, device, report),
                   ceiling=lambda: section_ceiling(args, device, report),
                   flops=lambda: section_flops(args, device, report, bench),
                   ddp=lambda: (section_ddp(args, device, report, bench)
                                if args.ddp_launch == 'inline' else
                                ddp_in_torchrun(args, device, budget, plan)),
                   restore=lambda: section_restore(args, device, report, bench),
                   profile=lambda: section_profile(args, device, report, bench))
    for name in plan:
        if name == 'train-core':
            later = sum(RESERVE_S[n] for n in ('ddp', 'restore', 'profile') if n in plan)
            section_train(args, device, report, bench, budget, configs[:4], later)
            continue
        if name == 'train-rest':
            later = RESERVE_S['profile'] if 'profile' in plan else 0.0
            section_train(args, device, report, bench, budget, configs[4:], later)
            continue
        reserve = RESERVE_S.get(name, 5.0)
        if name not in ('env', 'ceiling') and budget.left() < reserve:
            report.skip(name, f'time budget: {budget.left():.0f} s left, {reserve:.0f} s needed')
            continue
        section_start = time.monotonic()
        try:
            value = runners[name]()
        except Exception as err:  # noqa: BLE001  (report it and go on with the next section)
            report.error(name, err)
            continue
        value['seconds'] = time.monotonic() - section_start
        report.section(name, value)
        print(f'[gpu_check] {name} done in {value["seconds"]:.1f} s', flush=True)
    report.data['mmcv_ops_stub_calls'] = list(stub.calls) if stub else None
    (report.data['imported_distributions'], report.data['unmapped_modules'],
     report.data['imported_modules']) = imported_distributions()
    for dist, modules in CHILD_IMPORTS.items():
        imported = report.data['imported_distributions']
        imported[dist] = sorted(set(imported.get(dist, [])) | set(modules))
    report.data['finished'] = True
    report.data['elapsed_s'] = time.monotonic() - start
    report.write()
    print(markdown(report.data), flush=True)
    return 1 if report.data['errors'] else 0


if __name__ == '__main__':
    sys.exit(main())
