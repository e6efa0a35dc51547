"""Section ``train``: median ``train_step`` time (the model's own, as the Runner calls it),
images/s, peak memory and fraction of the FLOP limit of RDID-GAN and CycleGAN, fp32 / bf16
autocast, with and without channels_last, at each batch size (most important first)."""
import statistics
import time

from kit_common import (
    FLOP_PER_SAMPLE_256,
    MODELS,
    TARGET_IMAGES_PER_S,
    TARGET_SPEEDUP_VS_CYCLEGAN_FP32,
    TINY_MODEL,
    flop_limit,
    peak_memory_gib,
    reset_memory,
    time_steps,
)


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
