"""A stand-in for ``mmcv._ext`` (mmcv's compiled ops) on the GPU machine, where they cannot travel.

Why: mmcv's ops are C++/CUDA built against one torch and one Python (here torch 2.14, CPython
3.11); the GPU machine has torch 2.11 and CPython 3.12 and no compiler-ready mmcv source build in a
few minutes. The kit carries mmcv-lite 2.1.0 (the same Python code, no ``mmcv._ext``). But
``import mmagic.models`` imports every mmagic model, and a few of them (EDVR, TDAN, BasicVSR++,
StyleGAN2/3, ...) run ``mmcv.ops`` at import time, whose loader asserts that each named function
exists in ``mmcv._ext``: without a module of that name nothing of mmagic's models imports.

What this does: registers an empty module ``mmcv._ext`` whose every attribute is a function that
raises ``MmcvOpUnavailable`` naming the op. Importing works; *calling* any compiled op fails loudly.
RDID-GAN and CycleGAN use only ``mmcv.cnn`` (ConvModule, build_norm_layer, build_conv_layer: plain
torch), so a check that passes with the stub never touched a compiled op. ``calls`` counts the ops
that were looked up to be called, so the check can report that it was none.
"""
import importlib.util
import sys
import types

MODULE_NAME = 'mmcv._ext'


class MmcvOpUnavailable(RuntimeError):
    """A compiled mmcv op was called under the stub."""


class _StubExt(types.ModuleType):
    """``mmcv._ext`` whose attributes are functions that raise when called."""

    def __init__(self):
        super().__init__(MODULE_NAME, __doc__)
        self.__file__ = __file__
        self.calls = []

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def unavailable(*args, **kwargs):
            self.calls.append(name)
            raise MmcvOpUnavailable(
                f'mmcv compiled op {name!r} was called, but this environment has no mmcv._ext '
                f'(tools/gpu_check/mmcv_ops_stub.py stands in for it): the model under test '
                f'needs a full mmcv build')

        unavailable.__name__ = name
        return unavailable


def real_ext_available() -> bool:
    """Whether a compiled ``mmcv._ext`` can be imported (full mmcv)."""
    if isinstance(sys.modules.get(MODULE_NAME), _StubExt):
        return False
    try:
        return importlib.util.find_spec(MODULE_NAME) is not None
    except ModuleNotFoundError:  # no mmcv at all
        return False


def install(force: bool = False):
    """Register the stub unless a real ``mmcv._ext`` exists (or ``force``); return it or None.

    Must run before anything imports ``mmcv.ops`` (that is, before ``mmagic.models``).
    """
    current = sys.modules.get(MODULE_NAME)
    if isinstance(current, _StubExt):
        return current
    if current is not None or (real_ext_available() and not force):
        return None
    stub = _StubExt()
    sys.modules[MODULE_NAME] = stub
    return stub


def installed():
    """The stub if it is registered, else None."""
    current = sys.modules.get(MODULE_NAME)
    return current if isinstance(current, _StubExt) else None
