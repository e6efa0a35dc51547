"""Winograd F(4x4, 3x3) convolution for CPU inference: the same 3x3 convolution, fewer products.

The residual blocks' 3x3 convolutions (256 channels) take most of a generator's time in region mode,
and on the CPU they already run at the rate of a matrix product. Winograd's minimal filtering (Lavin
and Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016) computes each 4x4 output
tile from a 6x6 input tile with 36 multiplications per channel pair instead of 144: the input and
the weights are transformed (``B^T d B``, ``G g G^T``), multiplied element-wise (36 matrix products
over the channels) and transformed back (``A^T m A``). The result equals the direct convolution up
to float rounding (relative error about 1e-5 in float32); cuDNN does the same on GPUs.

:class:`WinogradConv2d` is an ``nn.Conv2d`` with the same parameters; it takes this path only for
float32 inference on the CPU (no autograd, no autocast), and the direct convolution otherwise, so
training never sees it. :func:`winograd_convolutions` switches a model's eligible convolutions
for a block.
"""
import weakref
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

TILE = 4  # output tile side: F(4x4, 3x3)
WINDOW = TILE + 2  # input tile side
# Tiles per call: the transformed input and product (36 x channels x tiles floats each) stay in
# cache. One 256-channel layer of a COCO-sized whole image (1 x 256 x 122 x 162): 79 ms in bands of
# 512 tiles, 130 ms in bands of 2048, 136 ms direct; the crops of region mode are one band.
MAX_TILES = 512
MIN_CHANNELS = 32  # below this the transforms cost more than they save

_INPUT_T = torch.tensor([[4, 0, -5, 0, 1, 0],
                         [0, -4, -4, 1, 1, 0],
                         [0, 4, -4, -1, 1, 0],
                         [0, -2, -1, 2, 1, 0],
                         [0, 2, -1, -2, 1, 0],
                         [0, 4, 0, -5, 0, 1]], dtype=torch.float64)  # B^T
_FILTER_T = torch.tensor([[1 / 4, 0, 0],
                        [-1 / 6, -1 / 6, -1 / 6],
                        [-1 / 6, 1 / 6, -1 / 6],
                        [1 / 24, 1 / 12, 1 / 6],
                        [1 / 24, -1 / 12, 1 / 6],
                        [0, 0, 1]], dtype=torch.float64)  # G
_OUTPUT_T = torch.tensor([[1, 1, 1, 1, 1, 0],
                          [0, 1, -1, 2, -2, 0],
                          [0, 1, 1, 4, 4, 0],
                          [0, 1, -1, 8, -8, 1]], dtype=torch.float64)  # A^T
# The 2-D transforms as matrices on flattened tiles: vec(B^T d B) = kron(B^T, B^T) vec(d).
# The input transform runs as a stride-4 convolution of every channel with 36 6x6 kernels.
_INPUT_KERNELS = torch.kron(_INPUT_T, _INPUT_T).float().view(WINDOW**2, 1, WINDOW, WINDOW)
_OUTPUT_MATRIX = torch.kron(_OUTPUT_T, _OUTPUT_T).float()  # (16, 36)
BIAS_ENTRY = 1 * WINDOW + 1


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """``G g G^T`` of every (out, in) filter pair, as 36 matrices (36, out, in), float32
    (computed in float64, so the only rounding is float32's)."""
    out_channels, in_channels = weight.shape[:2]
    transformed = torch.einsum('ij,ocjk,lk->iloc', _FILTER_T, weight.double(), _FILTER_T)
    return transformed.reshape(WINDOW**2, out_channels, in_channels).float().contiguous()


def winograd_conv3x3(x: torch.Tensor, weight: torch.Tensor,
                     bias: torch.Tensor = None) -> torch.Tensor:
    """``F.conv2d(x, w, bias)`` of a 3x3 kernel, stride 1, no padding, from
    ``weight = transform_weight(w)``; ``x`` is (N, C, H + 2, W + 2)."""
    batch, channels, in_height, in_width = x.shape
    height, width = in_height - 2, in_width - 2
    tiles_y, tiles_x = -(-height // TILE), -(-width // TILE)
    band = max(1, MAX_TILES // max(1, batch * tiles_x))  # tile rows per call
    if tiles_y > band:
        return torch.cat([
            winograd_conv3x3(x[:, :, row * TILE:min(row + band, tiles_y) * TILE + 2], weight, bias)
            for row in range(0, tiles_y, band)], dim=2)[:, :, :height]
    pad_y, pad_x = tiles_y * TILE + 2 - in_height, tiles_x * TILE + 2 - in_width
    if pad_y or pad_x:
        x = F.pad(x, (0, pad_x, 0, pad_y))
    tiles = tiles_y * tiles_x
    kernels = _INPUT_KERNELS.to(x.device)
    data = F.conv2d(x.reshape(batch * channels, 1, *x.shape[2:]), kernels, stride=TILE)
    data = data.view(batch, channels, WINDOW**2, tiles).permute(2, 1, 0, 3)
    data = data.reshape(WINDOW**2, channels, batch * tiles)
    product = torch.bmm(weight, data)  # (36, out, batch * tiles)
    if bias is not None:
        # Column 1 of A^T is all ones: a constant added at (1, 1) of every transformed tile
        # reaches all 16 outputs, for 1/36 of the cost of adding it to the output.
        product[BIAS_ENTRY] += bias.view(-1, 1)
    out_channels = weight.shape[1]
    tiled = (_OUTPUT_MATRIX.to(x.device) @ product.view(WINDOW**2, -1)).view(
        TILE, TILE, out_channels, batch, tiles_y, tiles_x)
    out = x.new_empty(batch, out_channels, tiles_y, TILE, tiles_x, TILE)
    out.copy_(tiled.permute(3, 2, 4, 0, 5, 1))  # into a contiguous tensor: one pass
    return out.view(batch, out_channels, tiles_y * TILE, tiles_x * TILE)[:, :, :height, :width]


# module -> ((weight version, storage, sum), transformed weight); an entry goes with its module
_TRANSFORMED: 'weakref.WeakKeyDictionary[nn.Module, tuple]' = weakref.WeakKeyDictionary()


def is_eligible(module: nn.Module) -> bool:
    """A plain 3x3, stride-1, undilated, ungrouped, zero-padded ``nn.Conv2d``, wide enough."""
    return (type(module) is nn.Conv2d and module.kernel_size == (3, 3)
            and module.stride == (1, 1) and module.dilation == (1, 1) and module.groups == 1
            and module.padding_mode == 'zeros' and isinstance(module.padding, tuple)
            and min(module.in_channels, module.out_channels) >= MIN_CHANNELS)


class WinogradConv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes float32 CPU inference with :func:`winograd_conv3x3`.

    Modules become this class through :func:`winograd_convolutions` (same parameters and state
    dict). The transformed weight (27 ms for 256 channels, 4x the weight's size) is cached per
    module outside it (:data:`_TRANSFORMED`: nothing extra to pickle, copy or save) and
    recomputed when the weight changes (its version counter, storage or sum). It lives as long
    as the module: about 160 MiB for the full-size generator.
    """

    def _transformed_weight(self) -> torch.Tensor:
        weight = self.weight.detach()
        # the version counter misses writes through ``.data``; the sum catches them (in float32:
        # a float64 sum copies the weight first, 5% of a generator call on 64 px crops)
        key = (self.weight._version, weight.data_ptr(), float(weight.sum()))
        cached = _TRANSFORMED.get(self)
        if cached is None or cached[0] != key:
            cached = (key, transform_weight(weight))
            _TRANSFORMED[self] = cached
        return cached[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Under autocast the transforms' products would run in bfloat16/float16, where Winograd
        # loses about 20x more than the direct convolution (relative error 8e-2 against 4e-3).
        if (torch.is_grad_enabled() or x.device.type != 'cpu' or x.dtype != torch.float32
                or self.weight.dtype != torch.float32 or x.dim() != 4
                or torch.is_autocast_enabled('cpu')):
            return super().forward(x)
        pad_y, pad_x = self.padding
        if pad_y or pad_x:
            x = F.pad(x, (pad_x, pad_x, pad_y, pad_y))
        return winograd_conv3x3(x, self._transformed_weight(),
                                None if self.bias is None else self.bias.detach())


@contextmanager
def winograd_convolutions(module: nn.Module, enabled: bool = True) -> Iterator[int]:
    """Within the block, ``module``'s eligible convolutions compute with Winograd (yields how
    many); afterwards they are plain ``nn.Conv2d`` again. ``enabled=False`` changes nothing."""
    switched = [m for m in module.modules() if enabled and is_eligible(m)]
    for conv in switched:
        conv.__class__ = WinogradConv2d
    try:
        yield len(switched)
    finally:
        for conv in switched:
            conv.__class__ = nn.Conv2d


__all__ = ['WinogradConv2d', 'transform_weight', 'winograd_conv3x3', 'winograd_convolutions']
