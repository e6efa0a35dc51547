"""Every workaround for an upstream problem, in one place.

Each shim names the problem it works around in a one-line comment and is covered by a test in
``tests/utils/test_compat.py`` that shows the problem still exists upstream and that the shim fixes
it.
"""
import importlib
import os
import warnings

import numpy as np

# Modules of mmagic 1.2.0 that bind ``generation_init_weights`` with ``from ... import``.
MMAGIC_INIT_WEIGHTS_MODULES = (
    'mmagic.models.utils.model_utils',
    'mmagic.models.utils',
    'mmagic.models.editors.cyclegan.cyclegan_generator',
    'mmagic.models.editors.pix2pix.pix2pix_generator',
    'mmagic.models.archs.patch_disc',
    'mmagic.models.archs.smpatch_disc',
)


def apply_import_time_shims():
    """Shims that must be in place before mmagic is imported (cheap: numpy only)."""
    # numpy 2 removed np.bool8; mmagic 1.2.0 uses it at import time (mmagic/utils/trans_utils.py).
    if not hasattr(np, 'bool8'):
        np.bool8 = np.bool_
    # diffusers 0.24 (imported by mmagic) calls torch's deprecated _register_pytree_node at import
    # time: one FutureWarning per import, in front of every tool's output. Silenced for diffusers
    # only.
    warnings.filterwarnings(
        'ignore', message=r'`torch\.utils\._pytree\._register_pytree_node` is deprecated',
        category=FutureWarning, module=r'diffusers(\.|$)')
    # mmcv 2.1.0's ConvModule warns "Unnecessary conv bias before batch/instance norm" for every
    # such layer it builds; mmagic's CycleGAN and Pix2Pix generators (and RDID-GAN's, after
    # junyanz's code) use that bias on purpose, so every tool printed it. Silenced for mmcv only.
    warnings.filterwarnings('ignore', message=r'Unnecessary conv bias before batch/instance norm',
                            category=UserWarning, module=r'mmcv\.cnn\.bricks\.conv_module')


def generation_init_weights(module, init_type='normal', init_gain=0.02):
    """mmagic's ``generation_init_weights`` without its unbound ``init_info``.

    Same initialisation as upstream (normal / xavier / kaiming / orthogonal for conv and linear
    layers, N(1, gain) for BatchNorm2d); other layers are left alone and no longer crash the
    Runner's init-info bookkeeping.
    """
    from mmengine.model.weight_init import kaiming_init, normal_init, update_init_info, xavier_init
    from torch.nn import init

    def init_func(m):
        classname = m.__class__.__name__
        init_info = None
        if hasattr(m, 'weight') and (classname.find('Conv') != -1
                                     or classname.find('Linear') != -1):
            if init_type == 'normal':
                normal_init(m, 0.0, init_gain)
            elif init_type == 'xavier':
                xavier_init(m, gain=init_gain, distribution='normal')
            elif init_type == 'kaiming':
                kaiming_init(m, a=0, mode='fan_in', nonlinearity='leaky_relu',
                             distribution='normal')
            elif init_type == 'orthogonal':
                init.orthogonal_(m.weight, gain=init_gain)
                init.constant_(m.bias.data, 0.0)
            else:
                raise NotImplementedError(
                    f"Initialization method '{init_type}' is not implemented")
            init_info = f"Initialize {classname} by 'init_type' {init_type}."
        elif classname.find('BatchNorm2d') != -1:
            normal_init(m, 1.0, init_gain)
            init_info = (f'{classname} is BatchNorm2d, initialize by Norm initialization '
                         f'with mean=1, std={init_gain}')
        if init_info is not None and hasattr(m, '_params_init_info'):
            update_init_info(module, init_info)

    module.apply(init_func)


def patch_mmagic_init_weights():
    """Replace mmagic's ``generation_init_weights`` wherever it was bound.

    Imports ``mmagic.models`` (about 5 s); called from ``rdid_mm.models``.
    """
    # open-mmlab/mmagic#2109: UnboundLocalError 'init_info' for non-conv layers under a Runner.
    for name in MMAGIC_INIT_WEIGHTS_MODULES:
        module = importlib.import_module(name)
        module.generation_init_weights = generation_init_weights


def init_cpu_distributed(launcher):
    """Start a gloo process group for a CPU-only distributed run; return True if it did.

    On GPUs nothing happens: MMEngine starts NCCL itself.
    """
    import torch
    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    # mmengine 0.10.7 init_dist('pytorch') always calls torch.cuda.set_device, which fails on CPU.
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    dist.init_process_group(backend='gloo')
    return True


def keeping_default_scope(scope):
    """A context in which ``scope`` is the default scope; the caller's comes back afterwards.

    mmdet's ``init_detector`` and mmpose's ``init_model`` / ``inference_topdown`` call mmengine's
    ``init_default_scope``, which makes their scope current for the rest of the process: every
    later ``type='RDIDRunner'`` or ``type='CBAM'`` lookup in the same process then fails.
    """
    from mmengine.registry import DefaultScope
    return DefaultScope.overwrite_default_scope(scope)


def cpu_model_wrapper_cfg(model_wrapper_cfg):
    """The DDP wrapper config for a CPU-only distributed run.

    mmengine's Runner passes ``device_ids=[LOCAL_RANK]`` to DDP, which torch refuses for CPU
    modules.
    """
    cfg = dict(model_wrapper_cfg or {})
    cfg['device_ids'] = None
    return cfg


# Image-loading steps of mmdet's and mmpose's pipelines that decode files with mmcv.imfrombytes.
MMCV_IMAGE_LOADERS = ('LoadImageFromFile', 'LoadImage')


def ignore_exif_orientation(cfg) -> int:
    """Make every image-loading step of an mmdet / mmpose config keep the pixels as stored.

    Edits ``cfg`` (a Config or dict) in place, pipelines of datasets and hooks alike; returns
    how many steps it changed.
    """
    # mmcv 2.1.0 LoadImageFromFile defaults to color_type='color' (cv2.IMREAD_COLOR), which
    # rotates JPEGs by their EXIF orientation; COCO's boxes and keypoints follow the stored pixels.
    changed = 0

    def visit(node):
        nonlocal changed
        if isinstance(node, dict):
            kind = node.get('type')
            if (isinstance(kind, str) and kind.split('.')[-1] in MMCV_IMAGE_LOADERS
                    and node.get('color_type', 'color') == 'color'):
                node['color_type'] = 'color_ignore_orientation'
                changed += 1
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(getattr(cfg, '_cfg_dict', cfg))  # an mmengine Config holds its dict, is not one
    return changed


def patch_albumentations_for_mmpose():
    """Give albumentations 2 the module mmpose's ``Albumentation`` transform looks up.

    Returns True if it patched. Called before mmpose training pipelines are built.
    """
    # mmpose 1.3.2 Albumentation.albu_builder checks hasattr(albumentations.augmentations.
    # transforms, ...); albumentations 2 moved that module to augmentations.pixel.transforms,
    # so every RTMPose training config fails with AttributeError.
    import albumentations.augmentations as augmentations
    if hasattr(augmentations, 'transforms'):
        return False
    from albumentations.augmentations.pixel import transforms
    augmentations.transforms = transforms
    return True


# albumentations 1.x CoarseDropout arguments -> albumentations 2 ranges (min, max).
COARSE_DROPOUT_V2 = (('num_holes_range', 'min_holes', 'max_holes'),
                     ('hole_height_range', 'min_height', 'max_height'),
                     ('hole_width_range', 'min_width', 'max_width'))


def albumentations_v2_args(cfg) -> int:
    """Rewrite 1.x ``CoarseDropout`` arguments in a config's ``Albumentation`` steps to the 2.x
    ranges (in place; returns how many steps changed). Nothing changes under albumentations 1."""
    # albumentations 2 ignores CoarseDropout(max_holes=..., max_height=..., ...) with a warning
    # and uses its defaults: RTMPose's configs silently get 1-2 holes of 10-20% instead of one of
    # 20-40%.
    import albumentations
    if int(albumentations.__version__.split('.')[0]) < 2:
        return 0
    changed = 0

    def visit(node):
        nonlocal changed
        if isinstance(node, dict):
            if node.get('type') == 'CoarseDropout' and any(
                    old in node for _, *olds in COARSE_DROPOUT_V2 for old in olds):
                for new, low, high in COARSE_DROPOUT_V2:
                    if low in node or high in node:
                        hi = node.pop(high, None)
                        lo = node.pop(low, hi)
                        node[new] = (lo, hi if hi is not None else lo)
                changed += 1
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(getattr(cfg, '_cfg_dict', cfg))  # an mmengine Config holds its dict, is not one
    return changed


# glibc's mmap threshold for malloc: 256 KiB, fixed (see ``fix_malloc_mmap_threshold``).
MALLOC_MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter number, <malloc.h>


def fix_malloc_mmap_threshold(threshold: int = MALLOC_MMAP_THRESHOLD) -> bool:
    """Fix glibc malloc's mmap threshold, so large freed buffers go back to the system.

    Returns False where there is no glibc (nothing changes). Called by the tools that run a
    network over many images of different sizes (restore, Table 1, the builder).
    """
    # glibc raises its mmap threshold each time an mmapped block is freed (up to 32 MiB), so
    # PyTorch's CPU tensors for images of ever-changing sizes soon come from the heap, which
    # fragments and is not returned: restoring 2,000 differently sized images (tools/restore.py,
    # region paste) grew peak RSS by 26 %. A fixed threshold (mallopt(M_MMAP_THRESHOLD)) turns the
    # dynamic adjustment off; large buffers are then mmapped and unmapped on free.
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, int(threshold)))
