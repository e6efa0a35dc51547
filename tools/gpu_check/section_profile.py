"""Section ``profile`` (``--profile``): where the time of one training step of the fastest
RDID-GAN configuration goes (top ops under torch.profiler)."""
from kit_common import TINY_MODEL, reset_memory, sync, time_steps


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
