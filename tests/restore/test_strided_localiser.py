"""The localiser on video frames with its learned detector on the whole frame every few frames and
around the faces between: the same boxes and tracks as the detector on every frame, for less."""
import os.path as osp

import numpy as np
import pytest

from rdid_mm.restore import locate_mosaics, mosaic_net
from rdid_mm.restore.localiser import luma
from rdid_mm.restore.strided_localiser import (
    NETWORK_EVERY,
    StridedLocaliser,
    network_regions,
    regional_mosaics,
)

from tests.helpers import load_tool

cases = load_tool('analysis_tools/localiser_cases')


def _panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=8):
    """A two-block mosaic after JPEG 60 in a COCO photo (the lattice finds nothing there, the
    network the box: test_mosaic_net's case), the view panning 8 px a frame (on JPEG's grid)."""
    image = cases._read_rgb(osp.join(sample_dir, 'val2017', '000000196141.jpg'))
    out, drawn = cases.pixelate('pillow', image, [(192, 128, 16, 16)], 8)
    out = cases.jpeg(out, 60)
    return [np.ascontiguousarray(out[64:320, 8 * i:8 * i + 320]) for i in range(frames)]


def _count_network_calls(monkeypatch) -> list:
    """The shapes of the images the network runs on, from now on."""
    calls = []
    run_net = mosaic_net._maps
    monkeypatch.setattr(mosaic_net, '_maps',
                        lambda y, net: calls.append(y.shape) or run_net(y, net))
    return calls


def test_the_network_runs_on_whole_frames_only_every_nth_and_around_the_faces_between(
        sample_dir, monkeypatch):
    frames = _panning_over_a_mosaic_the_lattice_misses(sample_dir)
    assert not locate_mosaics(frames[1], learned=False)  # the lattice alone misses it
    calls = _count_network_calls(monkeypatch)
    localiser = StridedLocaliser(3)
    shapes = []
    found = []
    for index, frame in enumerate(frames):
        calls.clear()
        found.append(localiser(index, frame))
        shapes.append(list(calls))
    whole = frames[0].shape[:2]
    assert [i for i, s in enumerate(shapes) if whole in s] == [0, 3, 6]
    assert all(s and all(h * w < whole[0] * whole[1] / 2 for h, w in s)
               for i, s in enumerate(shapes) if i % 3)  # between: the face's part only
    assert (localiser.network_frames, localiser.region_frames) == (3, 5)
    monkeypatch.undo()
    every_frame = [[m.to_list()[:4] for m in locate_mosaics(f)] for f in frames]
    assert found == every_frame and all(len(b) == 1 for b in found)


def test_without_faces_between_passes_the_network_does_not_run(sample_dir, monkeypatch):
    """Where the lattice finds every face the frame before had, the network has nothing to add
    between its whole-frame passes (the tuning videos' mosaics of 6-9 blocks)."""
    rng = np.random.default_rng(0)
    frames = []
    for index in range(5):
        frame = np.full((96, 160, 3), 128, np.uint8)
        frame[20:68, 30 + 2 * index:70 + 2 * index] = np.kron(
            rng.integers(40, 220, (6, 5, 3)), np.ones((8, 8, 1))).astype(np.uint8)
        frames.append(frame)
    calls = _count_network_calls(monkeypatch)
    localiser = StridedLocaliser(2)
    found = [localiser(index, frame) for index, frame in enumerate(frames)]
    assert all(len(b) == 1 for b in found)
    assert calls == [(96, 160)] * 3  # frames 0, 2, 4
    assert (localiser.network_frames, localiser.region_frames) == (3, 0)


def test_a_frame_out_of_order_gets_a_whole_pass_and_videos_keep_their_own_state(sample_dir):
    frames = _panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=3)
    localiser = StridedLocaliser(3)
    first = localiser.mosaics(0, frames[0], 'a')
    assert localiser.mosaics(0, frames[0], 'b') == first
    localiser.mosaics(1, frames[1], 'a')
    localiser.mosaics(2, frames[2], 'b')  # b skipped frame 1: a whole pass
    assert (localiser.network_frames, localiser.region_frames) == (3, 1)
    with pytest.raises(ValueError, match='every N >= 1'):
        StridedLocaliser(0)


def test_regional_maps_are_the_whole_frames_inside_the_regions(sample_dir):
    """The network's boxes found in a region equal those of the whole frame there (the region
    is seen with the network's reach around it, from an even corner)."""
    frame = _panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=2)[1]
    y = luma(frame)
    whole = mosaic_net.learned_mosaics(y)
    assert len(whole) == 1
    height, width = y.shape
    regions = network_regions(whole, width, height)
    assert regional_mosaics(y, regions) == whole
    assert regional_mosaics(y, [(0, 0, 40, 40)]) == []  # elsewhere: nothing


def test_the_default_stride_lets_tracks_bridge_the_frames_between():
    """A face only the whole-frame passes find (frames 0, NETWORK_EVERY, ...) stays one track,
    its frames between bridged with boxes."""
    from rdid_mm.restore.face_tracks import track_video
    frames = 3 * NETWORK_EVERY + 1
    boxes = [[[40.0 + 2 * i, 30.0, 32.0, 32.0]] if i % NETWORK_EVERY == 0 else []
             for i in range(frames)]
    tracked = track_video(boxes)
    assert all(len(t) == 1 for t in tracked)
    assert {t[0].track for t in tracked} == {0}
    assert [t[0].raw is None for t in tracked] == [i % NETWORK_EVERY != 0 for i in range(frames)]
    # one frame more between the passes and the track breaks: the stride is at its limit
    sparse = [[[40.0 + 2 * i, 30.0, 32.0, 32.0]] if i % (NETWORK_EVERY + 1) == 0 else []
              for i in range(frames)]
    assert len({t[0].track for t in track_video(sparse) if t}) > 1


def test_same_tracks_as_the_network_on_every_frame_on_a_stability_video(sample_dir):
    """A stability benchmark video (``video_stability``'s helpers) at 0.4x, moving camera,
    where the lattice alone finds other tracks: the strided localiser finds the network's
    tracks. (Before a still camera the lattice found the network's tracks once the heads'
    straight seams were gone.)"""
    tool = load_tool('analysis_tools/video_box_cost')
    video = tool.run('tuning:text', 1, 'camera', sample_dir, ['every 1', 'every 3', 'lattice'],
                     frames=12, scale=0.4)
    rows = {r['setting']: r for r in video['rows']}
    assert rows['lattice']['tracks'] != rows['every 1']['tracks']
    assert rows['lattice']['covered'] < 0.9
    assert rows['every 3']['tracks'] == rows['every 1']['tracks']
    assert rows['every 3']['covered'] == rows['every 3']['covers'] == 1.0


def test_the_restore_box_source_strides_video_frames_only(sample_dir, monkeypatch):
    """``tools/restore.py --network-every N`` (``restore_input(network_every=N)``): a video's
    frames (keys ``name#000123``) go through the strided localiser, an image through the
    localiser whole; the default keeps the label ``localiser``, another stride has its own."""
    from rdid_mm.restore.box_sources import choose_box_source
    frames = _panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=4)
    source = choose_box_source(sample_dir, None, False, False)
    assert source.label == 'localiser'
    calls = _count_network_calls(monkeypatch)
    found = [source.boxes(f'clip.mp4#{i:06d}', f) for i, f in enumerate(frames)]
    assert calls.count(frames[0].shape[:2]) == 2  # frames 0 and 3
    assert found == [[m.to_list()[:4] for m in locate_mosaics(f)] for f in frames]
    calls.clear()
    assert source.boxes('still.png', frames[1]) == found[1]
    assert calls == [frames[1].shape[:2]]
    every = choose_box_source(sample_dir, None, False, False, network_every=1)
    assert every.label == 'localiser (network every 1 video frames)'
    calls.clear()
    [every.boxes(f'clip.mp4#{i:06d}', f) for i, f in enumerate(frames)]
    assert calls == [frames[0].shape[:2]] * 4


def test_locate_mosaics_tool_strides_video_frames(sample_dir, tmp_path, monkeypatch):
    """``tools/locate_mosaics.py --network-every N`` (``locate_input(network_every=N)``): the
    boxes of a video's frames are those of the network on every frame, for fewer whole-frame
    passes."""
    import imageio_ffmpeg

    from rdid_mm.restore.locate_inputs import locate_input
    frames = _panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=4)
    path = str(tmp_path / 'pan.mkv')
    writer = imageio_ffmpeg.write_frames(path, frames[0].shape[1::-1], fps=12, codec='ffv1',
                                         pix_fmt_out='bgr0', macro_block_size=1,
                                         ffmpeg_log_level='error')
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()
    calls = _count_network_calls(monkeypatch)
    strided = locate_input(path, network_every=3)
    assert calls.count(frames[0].shape[:2]) == 2
    assert strided == locate_input(path, network_every=1)
    assert [len(v) for v in strided.values()] == [1] * 4
    assert not any(locate_input(path, learned=False).values())


def test_a_large_region_goes_through_the_network_in_tiles(sample_dir, monkeypatch):
    """Regions merged over most of a wide frame: the network sees them in tiles, as the whole
    frame (its memory bounded: :data:`.mosaic_net.TILE`), with the same boxes."""
    frame = np.tile(_panning_over_a_mosaic_the_lattice_misses(sample_dir, frames=1)[0], (1, 5, 1))
    y = luma(frame)
    whole = mosaic_net.learned_mosaics(y)
    assert len(whole) == 5
    calls = _count_network_calls(monkeypatch)
    height, width = y.shape
    assert regional_mosaics(y, [(0, 0, width, height)]) == whole
    assert max(w for _, w in calls) <= mosaic_net.TILE + 2 * mosaic_net.TILE_MARGIN < width
