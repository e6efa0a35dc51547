"""Section ``ddp``: synchronised training steps with the Runner that ``tools/dist_train.sh``
builds (``rdid_mm.apis.train.build_runner``), over NCCL (gloo on CPU), counting the gradient
all-reduces of one step; run in a process of its own started as torchrun starts training."""
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

from kit_common import KIT_DIR, RESERVE_S, TINY_MODEL, free_port, sync

# {distribution: [modules]} imported by the DDP section's own process
CHILD_IMPORTS = {}


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
    later = sum(RESERVE_S[n] for n in ('restore', 'profile') if n in plan)
    timeout = budget.left() - later
    timeout = max(timeout if args.dry_run else min(timeout, 180.0), 30.0)
    out = tempfile.mkdtemp(prefix='gpu_check_ddp_out_')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '1',
           '--master_addr', '127.0.0.1', '--master_port', str(free_port()),
           osp.join(KIT_DIR, 'gpu_check.py'),
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
