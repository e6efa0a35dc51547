"""Restoration along face tracks: one restoration per key, moved with the box, lighting followed,
renewed on a pose change and cut on a new face."""
import numpy as np
import pytest

from rdid_mm.restore.face_tracks import TrackedBox
from rdid_mm.restore.track_restore import TrackStableRestorer, box_signature, warp_box


class CountingInvert:
    """A restorer that inverts its crops and counts them."""

    def __init__(self):
        self.crops = 0

    def __call__(self, crops):
        self.crops += len(crops)
        return [255 - c for c in crops]


def scene(width=160, height=120, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, (height, width, 3)).astype(np.uint8)


def tracked(box, track=0):
    return [TrackedBox(track, [float(v) for v in box], [float(v) for v in box])]


def test_the_key_frame_is_region_mode_and_outside_pixels_are_kept():
    frame = scene()
    restorer = CountingInvert()
    out = TrackStableRestorer(restorer).restore_frame(frame, tracked([40, 30, 32, 40]))
    assert np.array_equal(out[30:70, 40:72], 255 - frame[30:70, 40:72])
    outside = np.ones(frame.shape[:2], bool)
    outside[30:70, 40:72] = False
    assert np.array_equal(out[outside], frame[outside]) and restorer.crops == 1


def test_the_key_restoration_moves_with_the_box():
    """The camera pans 3 px a frame: the face is restored once and moved, so each frame's box
    holds the key's pixels at their new place (here exactly the inverted frame)."""
    world = scene(200, 120)
    restorer = CountingInvert()
    stable = TrackStableRestorer(restorer)
    for t in range(4):
        frame = np.ascontiguousarray(world[:, 3 * t:3 * t + 160])
        out = stable.restore_frame(frame, tracked([60 - 3 * t, 30, 32, 40]))
        box = (slice(30, 70), slice(60 - 3 * t, 92 - 3 * t))
        assert np.array_equal(out[box], 255 - frame[box]), t
    assert restorer.crops == 1
    assert stable.counts == dict(keys=1, refreshes=0, cuts=0, reused=3)
    stable.restore_frame(world[:, :160], [])
    assert stable.tracks == {}  # an ended track's key is let go


def test_a_sub_pixel_and_scaled_move_is_interpolated():
    """Half a pixel to the right: the key is resampled half-way between neighbours."""
    frame = scene()
    stable = TrackStableRestorer(CountingInvert())
    first = stable.restore_frame(frame, tracked([40, 30, 32, 40]))
    moved = stable.restore_frame(frame, tracked([40.5, 30, 32, 40]))
    key = first[30:70, 40:72].astype(float)
    # the moved box covers one more column: its mean colour moves the face's a little
    shift = frame[30:70, 40:73].mean(axis=(0, 1)) - frame[30:70, 40:72].mean(axis=(0, 1))
    expected = (key[:, :-1] + key[:, 1:]) / 2 + shift
    assert np.abs(moved[30:70, 41:72] - expected).max() <= 1.0


def test_lighting_follows_the_mosaic():
    frame = scene()
    stable = TrackStableRestorer(CountingInvert())
    first = stable.restore_frame(frame, tracked([40, 30, 32, 40]))
    brighter = (frame.astype(int) + 10).clip(0, 255).astype(np.uint8)
    changes = []
    for _ in range(20):
        out = stable.restore_frame(brighter, tracked([40, 30, 32, 40]))
        changes.append((out[30:70, 40:72].astype(float) - first[30:70, 40:72]).mean())
    assert stable.counts['keys'] == 1  # 10 grey levels: the same key
    # a running average (rate 0.2): 2 levels at once, then on towards the whole 10
    assert changes[0] == pytest.approx(2, abs=0.2) and changes[-1] == pytest.approx(10, abs=0.2)


def test_a_pose_change_renews_the_key_with_a_cross_fade_and_a_new_face_cuts():
    frame = scene(seed=0)
    restorer = CountingInvert()
    stable = TrackStableRestorer(restorer, refresh_change=25, cut_change=40, fade=3)
    box = [40, 30, 32, 40]
    stable.restore_frame(frame, tracked(box))
    steps = [(frame.astype(int) + 13 * k).clip(0, 255).astype(np.uint8) for k in range(1, 4)]
    outs = [stable.restore_frame(f, tracked(box)) for f in steps]
    # +13, +26: the second step is 26 grey levels from the key: renewed, not cut (13 from the last)
    assert stable.counts['refreshes'] == 1 and stable.counts['cuts'] == 0
    renewed = 255 - steps[1][30:70, 40:72].astype(float)
    old = 255 - frame[30:70, 40:72].astype(float) + 26
    blended = outs[1][30:70, 40:72].astype(float)
    assert np.abs(blended - (0.25 * renewed + 0.75 * old)).max() <= 1.0
    other = np.full_like(frame, 20)  # another face under the box
    assert np.abs(box_signature(other, box) - box_signature(steps[2], box)).mean() > 40
    out = stable.restore_frame(other, tracked(box))
    assert stable.counts['cuts'] == 1
    assert (out[30:70, 40:72] == 235).all()


def test_a_wavering_box_aspect_does_not_stretch_the_face():
    """The key's box is 20 x 20, this frame's 20 x 24 (a taller detection): the face keeps its
    shape, centred, scaled by the ratio of the areas' roots."""
    ramp = np.tile(np.arange(40, dtype=np.float32), (40, 1))[..., None].repeat(3, axis=2)
    out = warp_box(ramp, (0, 0), [10, 10, 20, 20], [10, 8, 20, 24], (10, 8, 30, 32),
                   uniform=True)
    scale = np.sqrt(20 * 20 / (20 * 24))
    expected = (np.arange(10, 30) + 0.5 - 20) * scale + 20 - 0.5
    assert np.allclose(out[12, :, 0], expected, atol=1e-4)
    stretched = warp_box(ramp, (0, 0), [10, 10, 20, 20], [10, 8, 20, 24], (10, 8, 30, 32))
    assert np.allclose(stretched[12, :, 0], np.arange(10, 30))  # x untouched without uniform
