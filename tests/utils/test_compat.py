"""Each shim in rdid_mm.utils.compat: the upstream problem still exists, and the shim fixes it."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from tests.helpers import free_port


def run_python(code, env=None):
    """Run ``code`` in a fresh interpreter (shims are process-wide); the completed process."""
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.slow
def test_numpy_bool8_alias_is_needed_and_applied_by_import_rdid_mm():
    upstream = run_python("""
        import numpy as np
        assert not hasattr(np, 'bool8'), 'numpy has bool8 again: the shim can go'
        import mmagic.utils.trans_utils
    """)
    assert upstream.returncode != 0
    assert 'bool8' in upstream.stderr

    fixed = run_python("""
        import numpy as np
        import rdid_mm
        assert np.bool8 is np.bool_
        import mmagic.utils.trans_utils
    """)
    assert fixed.returncode == 0, fixed.stderr


INIT_UNDER_PARENT = """
    import rdid_mm
    from mmengine.model import BaseModule
    from mmagic.models.archs import PatchDiscriminator

    class Parent(BaseModule):
        def __init__(self):
            super().__init__()
            self.disc = PatchDiscriminator(in_channels=3, base_channels=8, num_conv=2)

    model = Parent()
    {patch}
    model.init_weights()
    weight = model.disc.model[0].conv.weight
    print('std', float(weight.std()))
"""


@pytest.mark.slow
def test_generation_init_weights_fix_for_mmagic_2109():
    upstream = run_python(INIT_UNDER_PARENT.format(patch=''))
    assert upstream.returncode != 0
    assert "UnboundLocalError" in upstream.stderr and 'init_info' in upstream.stderr

    fixed = run_python(INIT_UNDER_PARENT.format(
        patch='import rdid_mm.models  # applies the fix'))
    assert fixed.returncode == 0, fixed.stderr
    std = float(fixed.stdout.split('std')[-1])
    assert 0.015 < std < 0.025, 'normal(0, 0.02) initialisation expected'


def test_every_mmagic_module_binding_init_weights_is_patched():
    import importlib

    import rdid_mm.models  # noqa: F401
    from rdid_mm.utils import compat
    for name in compat.MMAGIC_INIT_WEIGHTS_MODULES:
        module = importlib.import_module(name)
        assert module.generation_init_weights is compat.generation_init_weights, name


DIST_ENV = dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                CUDA_VISIBLE_DEVICES='')


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU-distributed shim is for CPU hosts')
def test_mmengine_init_dist_fails_on_cpu_and_the_gloo_shim_works():
    upstream = run_python("""
        from mmengine.dist import init_dist
        init_dist('pytorch', backend='gloo')
    """, env={**DIST_ENV, 'MASTER_PORT': str(free_port())})
    assert upstream.returncode != 0
    assert 'cuda' in upstream.stderr.lower()

    fixed = run_python("""
        import torch.distributed as dist
        from rdid_mm.utils.compat import init_cpu_distributed
        assert init_cpu_distributed('pytorch')
        assert dist.get_backend() == 'gloo' and dist.get_world_size() == 1
    """, env={**DIST_ENV, 'MASTER_PORT': str(free_port())})
    assert fixed.returncode == 0, fixed.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU-distributed shim is for CPU hosts')
def test_ddp_refuses_device_ids_for_cpu_modules_and_the_wrapper_cfg_drops_them():
    from rdid_mm.utils.compat import cpu_model_wrapper_cfg
    cfg = cpu_model_wrapper_cfg(
        dict(type='MMSeparateDistributedDataParallel', find_unused_parameters=True))
    assert cfg == dict(type='MMSeparateDistributedDataParallel', find_unused_parameters=True,
                       device_ids=None)

    check = run_python("""
        import torch, torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        dist.init_process_group('gloo')
        try:
            DistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        except ValueError as err:
            print('refused:', err)
        DistributedDataParallel(torch.nn.Linear(2, 2), device_ids=None)
        print('ok')
    """, env={**DIST_ENV, 'MASTER_PORT': str(free_port())})
    assert check.returncode == 0, check.stderr
    assert 'refused:' in check.stdout and check.stdout.strip().endswith('ok')


@pytest.mark.slow
def test_diffusers_pytree_future_warning_is_filtered_where_mmagic_is_imported():
    upstream = run_python("""
        import warnings
        warnings.simplefilter('default')
        import numpy as np
        np.bool8 = np.bool_
        import mmagic.models
    """)
    assert upstream.returncode == 0, upstream.stderr
    assert '_register_pytree_node` is deprecated' in upstream.stderr, \
        'diffusers no longer warns: the filter can go'

    fixed = run_python("""
        import warnings
        warnings.simplefilter('default')
        import rdid_mm
        import rdid_mm.models
        warnings.warn('other FutureWarnings still show', FutureWarning)
    """)
    assert fixed.returncode == 0, fixed.stderr
    assert '_register_pytree_node` is deprecated' not in fixed.stderr
    assert 'other FutureWarnings still show' in fixed.stderr


@pytest.mark.slow
def test_mmcv_conv_bias_warning_is_filtered_where_rdid_mm_is_imported():
    build = """
        from mmagic.registry import MODELS
        MODELS.build(dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                          base_channels=8, num_blocks=1))
    """
    upstream = run_python("""
        import warnings
        warnings.simplefilter('default')
        import numpy as np
        np.bool8 = np.bool_
        import mmagic.models
    """ + build)
    assert upstream.returncode == 0, upstream.stderr
    assert 'Unnecessary conv bias before batch/instance norm' in upstream.stderr, \
        'mmcv no longer warns: the filter can go'
    fixed = run_python("""
        import warnings
        warnings.simplefilter('default')
        import rdid_mm
        import rdid_mm.models
    """ + build + """
        warnings.warn('other UserWarnings still show', UserWarning)
    """)
    assert fixed.returncode == 0, fixed.stderr
    assert 'Unnecessary conv bias' not in fixed.stderr
    assert 'other UserWarnings still show' in fixed.stderr


def test_mmcv_image_loading_applies_exif_orientation_and_the_config_shim_keeps_stored_pixels(
        tmp_path):
    """COCO's boxes follow the stored pixels; mmdet's and mmpose's loaders rotate by EXIF."""
    import numpy as np
    from mmcv.transforms import LoadImageFromFile
    from PIL import Image

    from rdid_mm.utils.compat import ignore_exif_orientation
    path = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(np.zeros((20, 40, 3), dtype=np.uint8)).save(path, exif=exif.tobytes())

    upstream = LoadImageFromFile()(dict(img_path=path))['img']
    assert upstream.shape[:2] == (40, 20), 'mmcv no longer applies EXIF orientation: drop the shim'

    cfg = dict(
        train_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadImageFromFile', backend_args=None), dict(type='Resize')])),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadImageFromFile', color_type='grayscale')])),
        custom_hooks=[dict(type='mmdet.PipelineSwitchHook',
                           switch_pipeline=[dict(type='mmpose.LoadImage')])])
    assert ignore_exif_orientation(cfg) == 2
    step = dict(cfg['train_dataloader']['dataset']['pipeline'][0])
    assert step['color_type'] == 'color_ignore_orientation'
    assert cfg['custom_hooks'][0]['switch_pipeline'][0]['color_type'] == (
        'color_ignore_orientation')
    assert cfg['test_dataloader']['dataset']['pipeline'][0]['color_type'] == 'grayscale'
    step.pop('type')
    fixed = LoadImageFromFile(**step)(dict(img_path=path))['img']
    assert fixed.shape == (20, 40, 3)


ALBU_STEP = """
    import warnings
    import numpy as np
    {patch}
    from mmpose.datasets.transforms import Albumentation
    step = dict(transforms=[dict(type='Blur', p=0.1), dict(
        type='CoarseDropout', max_holes=1, max_height=0.4, max_width=0.4, min_holes=1,
        min_height=0.2, min_width=0.2, p=1.)])
    {rewrite}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        albu = Albumentation(**step)
    dropout = albu.aug.transforms[1]
    print('holes', dropout.num_holes_range, dropout.hole_height_range, dropout.hole_width_range)
    print('ignored', any('are not valid for transform CoarseDropout' in str(w.message)
                         for w in caught))
"""


@pytest.mark.slow
def test_mmpose_albumentation_fails_under_albumentations_2_and_the_shims_fix_it():
    upstream = run_python(ALBU_STEP.format(patch='', rewrite=''))
    assert upstream.returncode != 0
    assert "has no attribute 'transforms'" in upstream.stderr

    patched_only = run_python(ALBU_STEP.format(
        patch='from rdid_mm.utils.compat import patch_albumentations_for_mmpose\n'
              '    assert patch_albumentations_for_mmpose()', rewrite=''))
    assert patched_only.returncode == 0, patched_only.stderr
    # the 1.x arguments are ignored: albumentations 2's defaults, not the config's
    assert 'holes (1, 2) (0.1, 0.2) (0.1, 0.2)' in patched_only.stdout
    assert 'ignored True' in patched_only.stdout

    fixed = run_python(ALBU_STEP.format(
        patch='from rdid_mm.utils.compat import (albumentations_v2_args,\n'
              '                                  patch_albumentations_for_mmpose)\n'
              '    patch_albumentations_for_mmpose()',
        rewrite='assert albumentations_v2_args(dict(pipeline=[step])) == 1'))
    assert fixed.returncode == 0, fixed.stderr
    assert 'holes (1, 1) (0.2, 0.4) (0.2, 0.4)' in fixed.stdout
    assert 'ignored False' in fixed.stdout


@pytest.mark.slow
def test_init_default_scope_leaks_mmdet_scope_and_the_context_keeps_the_callers():
    check = run_python("""
        import rdid_mm.models  # noqa: F401  (registers CBAM)
        import mmdet.registry  # noqa: F401  (the mmdet scope exists)
        from mmengine.registry import DefaultScope, init_default_scope
        from rdid_mm.registry import MODELS
        from rdid_mm.utils.compat import keeping_default_scope

        def builds_cbam():
            try:
                return MODELS.build(dict(type='CBAM', channels=4)) is not None
            except KeyError:
                return False

        DefaultScope.get_instance('caller', scope_name='rdid_mm')
        with keeping_default_scope('mmdet'):
            init_default_scope('mmdet')
        print('kept:', DefaultScope.get_current_instance().scope_name, builds_cbam())
        init_default_scope('mmdet')
        print('leaked:', DefaultScope.get_current_instance().scope_name, builds_cbam())
    """)
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines() == ['kept: rdid_mm True', 'leaked: mmdet False']


MALLOC_PROBE = r'''
import ctypes, sys
libc = ctypes.CDLL('libc.so.6')

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks',
        'fordblks', 'keepcost')]

libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == 'fixed':
    from rdid_mm.utils.compat import fix_malloc_mmap_threshold
    assert fix_malloc_mmap_threshold()
size = 4 << 20
first = libc.malloc(size)
mapped_first = libc.mallinfo2().hblkhd >= size
libc.free(first)
second = libc.malloc(size)
mapped_second = libc.mallinfo2().hblkhd >= size
libc.free(second)
print(int(mapped_first), int(mapped_second))
'''


def test_glibc_raises_its_mmap_threshold_after_a_free_and_the_fixed_threshold_keeps_it():
    """Upstream: after one 4 MiB block is freed, glibc serves the next from the heap (never given
    back); with the shim, the second block is mmapped too."""
    import subprocess
    import sys
    if not sys.platform.startswith('linux'):
        pytest.skip('glibc only')
    runs = {mode: subprocess.run([sys.executable, '-c', MALLOC_PROBE, mode], capture_output=True,
                                 text=True, check=True).stdout.split()
            for mode in ('default', 'fixed')}
    assert runs['default'] == ['1', '0'], runs  # the dynamic threshold (upstream behaviour)
    assert runs['fixed'] == ['1', '1'], runs
