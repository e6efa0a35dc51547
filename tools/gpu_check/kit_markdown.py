"""The markdown table of a GPU-check report (printed last, for the device tool's output tail)."""
from kit_common import (
    FLOP_PER_SAMPLE_256,
    MODELS,
    TARGET_IMAGES_PER_S,
    TARGET_SPEEDUP_VS_CYCLEGAN_FP32,
)


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
                  '| mode | precision | images/s | seconds | peak mem (GiB) | region / whole '
                  '| batched / 4 per batch |', '|---|---|---|---|---|---|---|']
        for r in restore['rows']:
            lines.append(f"| {r['mode']} | {r['precision']} | {_fmt(r['images_per_s'])} | "
                         f"{_fmt(r['seconds'])} | {_fmt(r['peak_memory_gib'])} | "
                         f"{_fmt(r.get('speedup_vs_whole'))} | "
                         f"{_fmt(r.get('speedup_vs_4_per_batch'))} |")
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
