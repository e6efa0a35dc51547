"""Sections ``env`` and ``ceiling``: what the machine is (versions, the card, whether mmcv's
compiled ops are real or stubbed) and the bf16 matrix-product rate the FLOP fractions refer to."""
import platform
import socket
import statistics
import time

import mmcv_ops_stub
from kit_common import NOMINAL_BF16_FLOPS, sync


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
