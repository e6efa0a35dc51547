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
- ``restore``: whole-image and region-mode throughput of the shipped restorer
  (``rdid_mm.restore``) on copies of the de-identified sample (COCO sizes);
- ``profile`` (``--profile``): where the time of one training step goes (top ops).

Writes ``gpu_check.json`` and ``gpu_check.md`` into ``--out`` after every section (atomically), so
a run cut short still leaves what it measured. One module per section (``section_*.py``); the
report in ``kit_report.py`` / ``kit_markdown.py``; what they share in ``kit_common.py``.
"""
import argparse
import logging
import os
import sys
import time

KIT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, KIT_DIR)
import mmcv_ops_stub  # noqa: E402  (before anything imports mmcv.ops)
from kit_common import RESERVE_S, imported_distributions, load_benchmark_module  # noqa: E402
from kit_markdown import markdown  # noqa: E402
from kit_report import Budget, Report  # noqa: E402
from section_ddp import CHILD_IMPORTS, ddp_in_torchrun, section_ddp  # noqa: E402
from section_env import section_ceiling, section_env  # noqa: E402
from section_flops import section_flops  # noqa: E402
from section_profile import section_profile  # noqa: E402
from section_restore import section_restore  # noqa: E402
from section_train import section_train, train_configs  # noqa: E402


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
    return args


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
