"""A small learned mosaic detector: where the lattice localiser misses (2 x 2-block mosaics, crowds
of small faces on texture, weak-edged mosaics after JPEG), a tiny fully convolutional network on the
luma and its steps marks the pixels inside a mosaic and the mosaics' outer edges; boxes are the
connected parts of the inside map with the edges taken out, so touching mosaics come apart.

The weights (``mosaic_net.pth`` beside this module) are made by
``tools/analysis_tools/train_mosaic_net.py`` from the tuning composites of
``tools/analysis_tools/localiser_cases.py`` only. ``locate_mosaics`` combines these boxes with the
lattice's (``learned=False``: the lattice alone).
"""
import os.path as osp
from functools import lru_cache
from typing import List, Optional, Tuple

import cv2
import numpy as np

WEIGHTS = osp.join(osp.dirname(osp.abspath(__file__)), 'mosaic_net.pth')
#: Channels of the full-resolution and the half-resolution (context) layers, and the dilations of
#: the context layers: the receptive field covers a few 16 px blocks.
WIDTH, CONTEXT, DILATIONS = 12, 16, (1, 2, 4, 8, 1)
#: The edge band of a mosaic (px each side of its outline) that the ``edge`` map learns.
EDGE_BAND = 2
#: The largest cell noise (:func:`box_mosaic`) of a kept box.
MAX_CELL_NOISE = 0.5


def mosaic_net(width: int = WIDTH, context: int = CONTEXT, dilations=DILATIONS):
    """The network: luma features in, logits of ``inside`` and ``edge`` out (same size)."""
    import torch.nn as nn

    class MosaicNet(nn.Module):

        def __init__(self):
            super().__init__()
            self.full = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(inplace=True))
            self.down = nn.Sequential(nn.Conv2d(width, context, 3, stride=2, padding=1),
                                      nn.ReLU(inplace=True))
            self.context = nn.ModuleList(
                nn.Conv2d(context, context, 3, padding=d, dilation=d) for d in dilations)
            self.head = nn.Conv2d(context + width, 2, 1)

        def forward(self, x):
            import torch.nn.functional as F
            full = self.full(x)
            h = self.down(full)
            for conv in self.context:
                h = F.relu(h + conv(h))  # residual: the early, sharp features stay
            # ``head(cat(upsampled context, full))``, with the head's context part applied before
            # the upsampling (both are linear and bilinear weights sum to 1): 2 channels are
            # upsampled instead of 16 and no 28-channel copy is made; the same logits to float
            # rounding, about 1.4x faster on one thread
            weight, bias = self.head.weight, self.head.bias
            low = F.conv2d(h, weight[:, :context], bias)
            up = F.interpolate(low, size=full.shape[-2:], mode='bilinear', align_corners=False)
            return up + F.conv2d(full, weight[:, context:])

    return MosaicNet()


def features(y: np.ndarray) -> np.ndarray:
    """``3 x H x W`` float32: the luma and its horizontal and vertical steps (log-scaled, so the
    few grey levels of a compressed block edge count)."""
    y = y.astype(np.float32)
    dx = np.zeros_like(y)
    dy = np.zeros_like(y)
    dx[:, 1:] = np.abs(np.diff(y, axis=1))
    dy[1:] = np.abs(np.diff(y, axis=0))
    return np.stack([y / 255.0 - 0.5, np.log1p(dx) / 3.0, np.log1p(dy) / 3.0])


@lru_cache(maxsize=1)
def load_mosaic_net(path: str = WEIGHTS):
    """The trained network (eval mode), loaded once."""
    import torch
    net = mosaic_net()
    net.load_state_dict(torch.load(path, map_location='cpu', weights_only=True))
    # channels-last: oneDNN's faster convolutions on CPU (about 1.4x on one thread)
    return net.eval().to(memory_format=torch.channels_last)


#: Images over ``TILE`` px a side go through the network in tiles of that size, each seen with
#: ``TILE_MARGIN`` px around it (more than the network's reach, about 38 px; even, so the tiles keep
#: the half-resolution grid): its full-resolution layers hold 28 channels, 5 GB for an 8000 x 6000
#: image at once.
TILE, TILE_MARGIN = 1024, 64


def mosaic_maps(y: np.ndarray, net=None, tile: int = TILE) -> Tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(inside, edge)`` (``H x W`` float32) for a float luma image; in tiles of
    ``tile`` px (the same maps, bounded memory)."""
    net = net or load_mosaic_net()
    height, width = y.shape
    if height <= tile + 2 * TILE_MARGIN and width <= tile + 2 * TILE_MARGIN:
        return _maps(y, net)
    inside, edge = (np.empty((height, width), np.float32) for _ in range(2))
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y1, x1 = max(top - TILE_MARGIN, 0), max(left - TILE_MARGIN, 0)
            y2 = min(top + tile + TILE_MARGIN, height)
            x2 = min(left + tile + TILE_MARGIN, width)
            part = _maps(y[y1:y2, x1:x2], net)
            keep = (slice(top - y1, top - y1 + tile), slice(left - x1, left - x1 + tile))
            inside[top:top + tile, left:left + tile] = part[0][keep]
            edge[top:top + tile, left:left + tile] = part[1][keep]
    return inside, edge


def _maps(y: np.ndarray, net) -> Tuple[np.ndarray, np.ndarray]:
    import torch
    height, width = y.shape
    pad_h, pad_w = (-height) % 2, (-width) % 2
    x = features(np.pad(y, ((0, pad_h), (0, pad_w)), mode='edge'))
    with torch.no_grad():
        x = torch.from_numpy(x)[None].contiguous(memory_format=torch.channels_last)
        out = torch.sigmoid(net(x))[0].contiguous().numpy()
    return out[0, :height, :width], out[1, :height, :width]


def boxes_from_maps(inside: np.ndarray, edge: np.ndarray, threshold: float = 0.5,
                    min_side: int = 10, min_score: float = 0.9
                    ) -> List[Tuple[int, int, int, int, float]]:
    """``(x, y, w, h, score)``: connected parts of ``inside`` above ``threshold`` with the edges
    taken out, grown back by the edge band (``EDGE_BAND`` px), at least ``min_side`` a side and of
    mean inside probability (the score) at least ``min_score``."""
    core = ((inside >= threshold) & (edge < threshold)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=4)
    height, width = inside.shape
    out = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        x0, y0 = max(x - EDGE_BAND, 0), max(y - EDGE_BAND, 0)
        x1, y1 = min(x + w + EDGE_BAND, width), min(y + h + EDGE_BAND, height)
        if min(x1 - x0, y1 - y0) < min_side:
            continue
        score = float(inside[labels == label].mean())
        if score >= min_score:
            out.append((x0, y0, x1 - x0, y1 - y0, score))
    return out


def learned_mosaics(y: np.ndarray, net=None, max_cell_noise: float = MAX_CELL_NOISE,
                    maps: Optional[Tuple[np.ndarray, np.ndarray]] = None, **kwargs) -> list:
    """The network's boxes in a float luma image as :class:`~.localiser.Mosaic` tuples (score: the
    mean inside probability) whose cells, on the lattice fitted inside the box, are flat
    (:func:`box_mosaic`); ``maps``: its ``(inside, edge)`` maps if already computed (e.g. only in
    parts of the image); ``kwargs`` go to :func:`boxes_from_maps`."""
    out = []
    for box in boxes_from_maps(*(maps if maps is not None else mosaic_maps(y, net)), **kwargs):
        mosaic, noise = box_mosaic(y, box)
        if noise <= max_cell_noise:
            out.append(mosaic)
    return out


def box_mosaic(y: np.ndarray, box) -> tuple:
    """``(mosaic, cell noise)`` of a box ``(x, y, w, h, score)``: pitch and phase from a lattice
    fit inside the box where one fits, else two blocks a side (most of what the lattice localiser
    misses), and the variation inside the lattice's cells over the steps between them (about 0 for
    a mosaic; a patch of natural content the network took for one is busier)."""
    from .localiser import Mosaic, _axis_lattice, _cell_constancy
    x, y0, w, h, score = box
    region = y[y0:y0 + h, x:x + w]
    pitches, phases, lines = [], [], []
    for steps, side in ((np.abs(np.diff(region, axis=1)), w),
                        (np.abs(np.diff(region, axis=0)).T, h)):
        axis = _axis_lattice(steps, 0, 3.0, 1.8, 3.0, max(side / 2, 3.0))
        pitch = side / 2 if axis is None or np.isnan(axis.pitch) else axis.pitch
        pitches.append(pitch)
        phases.append(float(axis.lines[0] % pitch) if axis is not None else side / 2)
        lines.append(axis.lines if axis is not None else np.array([side / 2]))
    noise = _cell_constancy(y, x, y0, x + w, y0 + h, lines[0] + x, lines[1] + y0)
    return Mosaic(x, y0, w, h, (pitches[0] + pitches[1]) / 2, score, pitches[0], pitches[1],
                  phases[0], phases[1]), float(noise)
