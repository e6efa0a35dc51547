"""Section ``flops``: FLOPs of one training sample of each model, counted by
``torch.utils.flop_counter`` over the models' real ``train_step``."""
from kit_common import FLOP_PER_SAMPLE_256, MODELS, TINY_MODEL, reset_memory


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
