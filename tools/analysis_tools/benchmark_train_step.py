"""Train-step time of RDID-GAN against mmagic's CycleGAN, split by phase, in one run.

Both models come from their configs (``configs/rdid_gan_coco.py`` and
``configs/cyclegan/cyclegan_lsgan-id0-resnet-in_8xb4-100e_deid-coco.py``) with equal loss settings
(identity weight 0 in both), the same batch and image size and the same optimiser, and are timed
alternately, step after step, on the same random batch. Phases of one ``train_step``:

- ``gen_forward``: the four generator forwards (translation and cycle, both directions);
- ``disc_step``: discriminator losses, backward and optimiser step;
- ``gen_loss``: generator losses (discriminators on the fakes; mmagic's CycleGAN also runs its two
  identity forwards here even at identity weight 0, RDID-GAN does not);
- ``gen_backward_step``: generator backward and optimiser step;
- ``other``: the rest (data preprocessing, bookkeeping).

A third column, ``CycleGAN-noid``, is RDID-GAN without CBAM and without the dist loss: mmagic's
CycleGAN without its unused identity forwards, so RDID-GAN / CycleGAN-noid is the cost of CBAM and
the dist loss alone.

Example (the numbers in docs/models.md)::

    python tools/analysis_tools/benchmark_train_step.py --batch-size 2 --size 128 --steps 5
"""
import argparse
import os.path as osp
import statistics
import time
from collections import defaultdict

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RDID_GAN_CONFIG = osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py')
CYCLEGAN_CONFIG = osp.join(REPO_ROOT, 'configs', 'cyclegan',
                           'cyclegan_lsgan-id0-resnet-in_8xb4-100e_deid-coco.py')
# name: (config, overrides of its model)
MODELS_TIMED = {
    'RDID-GAN': (RDID_GAN_CONFIG, {}),
    'CycleGAN': (CYCLEGAN_CONFIG, {}),
    # RDID-GAN without CBAM and without the dist loss computes what mmagic's CycleGAN computes
    # (tests/models/test_rdid_gan.py) minus its unused identity forwards: the CBAM + dist cost.
    'CycleGAN-noid': (RDID_GAN_CONFIG, {'generator.cbam_cfg': None,
                                        'discriminator.cbam_cfg': None, 'dist_loss': None}),
}
# FLOPs of one 256x256 training sample of RDID-GAN (torch.utils.flop_counter over a train_step:
# 1.28e12; tools/gpu_check/README.md), the figure the project's throughput goal is stated in.
FLOP_PER_SAMPLE_256 = 1.3e12
PHASES = ('gen_forward', 'disc_step', 'gen_loss', 'gen_backward_step', 'other', 'total')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--size', type=int, default=128, help='square crop size (multiple of 4)')
    parser.add_argument('--steps', type=int, default=5, help='timed steps per model')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps per model first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', choices=['none', 'bf16', 'fp16'], default='none',
                        help='mixed precision through AmpOptimWrapper (CUDA only)')
    parser.add_argument('--channels-last', action='store_true', help='channels_last memory format')
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: default)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--peak-tflops', type=float, default=790.0,
                        help='the FLOP limit for the fraction printed (790: bf16 on an H200)')
    return parser.parse_args()


class PhaseTimer:
    """Accumulate wall time per phase within one step (synchronising CUDA around each)."""

    def __init__(self, device):
        self.sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
        self.step = defaultdict(float)

    def wrap(self, phase, fn):

        def timed(*args, **kwargs):
            self.sync()
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.sync()
                self.step[phase] += time.perf_counter() - start

        return timed


def build_model(name, device, amp='none', channels_last=False, model_overrides=None):
    """The model of ``name``'s config on ``device`` and its optimiser wrappers (as the Runner builds
    them: ``amp`` switches both to MMEngine's ``AmpOptimWrapper`` with that dtype)."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from rdid_mm.registry import MODELS
    config, overrides = MODELS_TIMED[name]
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({f'model.{key}': value
                         for key, value in {**overrides, **(model_overrides or {})}.items()})
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optim_cfg = cfg.optim_wrapper.to_dict()
    if amp != 'none':
        dtype = 'bfloat16' if amp == 'bf16' else 'float16'
        for key in ('generators', 'discriminators'):
            optim_cfg[key].update(type='AmpOptimWrapper', dtype=dtype)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    return model, optim_wrapper


def build(name, args, device):
    """The model of ``name``'s config, its optimiser wrappers and a phase timer hooked into it."""
    model, optim_wrapper = build_model(name, device, args.amp, args.channels_last)
    timer = PhaseTimer(device)
    model.forward_train = timer.wrap('gen_forward', model.forward_train)
    model._get_disc_loss = timer.wrap('disc_step', model._get_disc_loss)
    model._get_gen_loss = timer.wrap('gen_loss', model._get_gen_loss)
    optim_wrapper['discriminators'].update_params = timer.wrap(
        'disc_step', optim_wrapper['discriminators'].update_params)
    optim_wrapper['generators'].update_params = timer.wrap(
        'gen_backward_step', optim_wrapper['generators'].update_params)
    return model, optim_wrapper, timer


def random_batch(batch_size, size):
    """A training batch as the data loader packs it: uint8 pairs (3, size, size) on the CPU."""
    from mmagic.structures import DataSample
    shape = (3, size, size)
    return dict(
        inputs=dict(
            img_mosaic=[torch.randint(0, 256, shape, dtype=torch.uint8)
                        for _ in range(batch_size)],
            img_gt=[torch.randint(0, 256, shape, dtype=torch.uint8)
                    for _ in range(batch_size)]),
        data_samples=[DataSample() for _ in range(batch_size)])


def main():
    args = parse_args()
    if args.size % 4:
        raise SystemExit(f'--size must be a multiple of 4, got {args.size}')
    if args.amp != 'none' and not args.device.startswith('cuda'):
        raise SystemExit('--amp needs a CUDA device (automatic mixed precision runs on CUDA)')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from mmengine import MessageHub
    from mmengine.registry import init_default_scope

    import rdid_mm.models  # noqa: F401  (registers the models)
    init_default_scope('rdid_mm')
    device = torch.device(args.device)
    models = {name: build(name, args, device) for name in MODELS_TIMED}
    batch = random_batch(args.batch_size, args.size)
    message_hub = MessageHub.get_current_instance()
    times = {name: defaultdict(list) for name in models}
    for step in range(args.warmup + args.steps):
        message_hub.update_info('iter', step)
        for name, (model, optim_wrapper, timer) in models.items():
            timer.step.clear()
            timer.sync()
            start = time.perf_counter()
            model.train_step(batch, optim_wrapper)
            timer.sync()
            total = time.perf_counter() - start
            if step < args.warmup:
                continue
            phases = dict(timer.step)
            phases['other'] = total - sum(phases.values())
            phases['total'] = total
            for phase in PHASES:
                times[name][phase].append(phases.get(phase, 0.0))

    print(f'device={device} torch={torch.__version__} threads={torch.get_num_threads()} '
          f'batch={args.batch_size} size={args.size} steps={args.steps} warmup={args.warmup} '
          f'amp={args.amp} channels_last={args.channels_last}')
    header = f'{"phase (median s)":<20}' + ''.join(f'{name:>15}' for name in models)
    print(header)
    for phase in PHASES:
        print(f'{phase:<20}' + ''.join(
            f'{statistics.median(times[name][phase]):>15.3f}' for name in models))
    totals = {name: statistics.median(times[name]['total']) for name in models}
    for name, total in totals.items():
        images_per_s = args.batch_size / total
        fraction = images_per_s * FLOP_PER_SAMPLE_256 * (args.size / 256)**2 / (
            args.peak_tflops * 1e12)
        print(f'{name}: {images_per_s:.3f} images/s, {fraction:.3g} of the FLOP limit '
              f'({FLOP_PER_SAMPLE_256 / 1e12} TFLOP per 256x256 sample, '
              f'{args.peak_tflops} TFLOP/s)')
    if device.type == 'cuda':
        print(f'peak GPU memory (all models together): '
              f'{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB')
    ratio = totals['RDID-GAN'] / totals['CycleGAN']
    print(f'RDID-GAN / CycleGAN train-step time: {ratio:.3f} (target <= 1.15)')
    ratio = totals['RDID-GAN'] / totals['CycleGAN-noid']
    print(f'RDID-GAN / CycleGAN-noid (the cost of CBAM and the dist loss): {ratio:.3f}')


if __name__ == '__main__':
    main()
