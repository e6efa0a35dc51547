"""Face tracks: association by IoU, gaps bridged, crossing faces kept apart, boxes smoothed."""
import numpy as np
import pytest

from rdid_mm.restore.face_tracks import FaceTracker, scale_path, smooth_boxes, track_video


def test_boxes_keep_their_track_ids_in_any_order():
    tracker = FaceTracker()
    assert tracker.update([[0, 0, 20, 20], [100, 0, 20, 20]]) == [0, 1]
    assert tracker.update([[102, 1, 20, 20], [2, 1, 20, 20]]) == [1, 0]
    assert tracker.update([[4, 2, 20, 20], [200, 200, 30, 30]]) == [0, 2]  # a new face
    assert tracker.tracks[1].frames == [0, 1]
    assert tracker.tracks[0].boxes[-1] == [4.0, 2.0, 20.0, 20.0]


def test_gaps_up_to_max_gap_are_bridged_with_interpolated_boxes():
    tracker = FaceTracker(max_gap=2)
    tracker.update([[0, 0, 20, 20]])
    tracker.update([])
    tracker.update([])
    assert tracker.update([[6, 0, 20, 20]]) == [0]
    track = tracker.tracks[0]
    assert track.frames == [0, 1, 2, 3]
    assert track.boxes[1] == pytest.approx([2, 0, 20, 20])
    assert track.boxes[2] == pytest.approx([4, 0, 20, 20])
    assert track.detected == [True, False, False, True]
    for _ in range(3):
        tracker.update([])
    assert tracker.update([[6, 0, 20, 20]]) == [1]  # three frames missed: a new track


def test_a_gap_is_matched_at_the_predicted_position():
    """A face moving 8 px a frame, missed twice: its last box no longer overlaps enough, the
    predicted one does."""
    tracker = FaceTracker(min_iou=0.3, max_gap=2)
    tracker.update([[0, 0, 16, 16]])
    tracker.update([[8, 0, 16, 16]])
    tracker.update([])
    tracker.update([])
    assert tracker.update([[32, 0, 16, 16]]) == [0]
    assert tracker.tracks[0].boxes[2] == pytest.approx([16, 0, 16, 16])


def test_crossing_faces_keep_their_ids():
    """Two faces passing each other horizontally: at the crossing their boxes overlap, and the
    predicted boxes still tell them apart."""
    left = [[10 + 6 * t, 0, 20, 20] for t in range(10)]
    right = [[64 - 6 * t, 4, 20, 20] for t in range(10)]
    tracker = FaceTracker()
    ids = [tracker.update([a, b]) for a, b in zip(left, right)]
    assert ids == [[0, 1]] * 10
    assert len(tracker.tracks) == 2


def test_a_fast_face_is_one_track_and_a_neighbour_is_another():
    """A 43 px face moving 25 px a frame (IoU 0.26 with its last box before the track has a
    velocity; the stability benchmark's held-out photo) stays one track; a face appearing beside
    it, one face width away, gets its own; a box far away or of another size starts a track."""
    tracker = FaceTracker()
    ids = [tracker.update([[235 - 25 * t, 175 - 5 * t, 43, 48]]) for t in range(6)]
    assert ids == [[0]] * 6
    last = [235 - 25 * 6, 175 - 5 * 6, 43, 48]
    assert tracker.update([last, [last[0] + 43, last[1], 43, 48]]) == [0, 1]
    other = FaceTracker()
    other.update([[100, 100, 40, 40]])
    assert other.update([[135, 100, 40, 40]]) == [1]  # 35 px: farther than 0.75 x 40
    assert other.update([[136, 100, 80, 80]]) == [2]  # twice the size: another face
    assert other.update([[130, 100, 40, 40]]) == [1]


def test_smoothing_fits_a_local_quadratic_to_centre_and_size():
    linear = [[2.0 * t, 10.0, 20.0, 20.0] for t in range(12)]
    assert np.allclose(smooth_boxes(linear, window=9), linear)  # constant speed: unchanged
    curved = [[0.1 * t * t, 5.0 + t, 20.0 + 0.05 * t * t, 20.0] for t in range(12)]
    assert np.allclose(smooth_boxes(curved, window=9), curved)  # a smooth swerve and zoom too
    jitter = [[3.0 * (t % 2), 0, 20, 20] for t in range(11)]
    smoothed = np.array(smooth_boxes(jitter, window=9))
    assert np.abs(np.diff(smoothed[:, 0])).max() < 1.5  # the 3 px back and forth shrinks
    # a short track fits over what it has: 3 frames, the best line through them
    assert smooth_boxes([[0, 0, 20, 20], [3, 0, 20, 20], [0, 0, 20, 20]], 9)[1] == \
        pytest.approx([1, 0, 20, 20])
    assert smooth_boxes([[0, 0, 20, 20], [3, 0, 20, 20]], 9) == [[0, 0, 20, 20], [3, 0, 20, 20]]
    # no further than max_shift of the size from the box given
    swerve = smooth_boxes([[0, 0, 20, 20], [0, 0, 20, 20], [20, 0, 20, 20]], 3)
    assert swerve[1] == pytest.approx([4, 0, 20, 20])  # the fit would put it 6.67 px off
    with pytest.raises(ValueError, match='window'):
        smooth_boxes(linear, window=0)


def test_smoothing_keeps_a_kink_and_drops_a_box_grown_for_a_frame():
    """A face moving 8 px a frame that stops (a camera at the photo's edge), whole-pixel boxes:
    the quadratic fit alone rounds the corner off by 3.1 px; the smoothed boxes stay within
    0.6 px of the path. A box grown by a block up and left for one frame is smoothed over as
    before (about a pixel), not followed (holding the fit to a running median of the boxes
    followed it by 3.5 px, as the face moved 8 px a frame)."""
    x = np.where(np.arange(30) < 15, 100 + 8 * np.arange(30), 220.0)
    noise = np.random.default_rng(0).uniform(-0.4, 0.4, 30)
    given = [[round(v + n), 50, 60, 70] for v, n in zip(x, noise)]
    smoothed = np.array(smooth_boxes(given))
    assert np.abs(smoothed[:, 0] - x).max() < 0.6
    given[8] = [given[8][0] - 8, 42, 68, 78]
    smoothed = np.array(smooth_boxes(given))
    centres = smoothed[:, :2] + smoothed[:, 2:] / 2
    assert np.abs(centres - np.stack([x + 30, np.full(30, 85.0)], axis=1)).max() < 1.1


def test_track_video_gives_each_frame_its_smoothed_boxes():
    frames = [[[0, 0, 20, 20]], [[4, 0, 20, 20]], [], [[10, 0, 20, 20]], [[10, 0, 20, 20]]]
    tracked = track_video(frames, window=1)
    assert [len(f) for f in tracked] == [1, 1, 1, 1, 1]
    assert {b.track for f in tracked for b in f} == {0}
    assert tracked[2][0].raw is None and tracked[2][0].box == pytest.approx([7, 0, 20, 20])
    assert tracked[1][0].raw == tracked[1][0].box == [4.0, 0.0, 20.0, 20.0]
    smoothed = track_video(frames, window=3)
    assert smoothed[1][0].box == pytest.approx([(0 + 4 + 7) / 3, 0, 20, 20])
    assert track_video([[], []]) == [[], []]


def test_scale_path_is_exact_on_a_smooth_zoom_and_short_tracks_take_the_mean():
    t = np.arange(30.0)
    size = 40 * np.exp(0.01 * t - 0.0004 * t ** 2)  # quadratic in log: every window's fit is exact
    path = np.asarray(scale_path([[0, 0, s, 1.2 * s] for s in size]))
    assert path - path[0] == pytest.approx(np.log(size / size[0]), abs=1e-9)
    assert path.mean() == pytest.approx(0, abs=1e-9)  # up to a constant: centred
    assert scale_path([]) == [] and scale_path([[0, 0, 20, 30]]) == [0.0]
    few = scale_path([[0, 0, 20, 20], [0, 0, 40, 10], [0, 0, 40, 40]])  # too few to fit
    assert few == pytest.approx(np.log([20, 20, 40]) - np.log([20, 20, 40]).mean())


def test_scale_path_leaves_out_grown_boxes_and_boxes_not_seen():
    """An exact zoom (quadratic in log size) whose width is a block too big on 3 frames and
    height on 2 others: the reweighting leaves them out (one plain fit was 1.4 % off). Boxes
    interpolated over a gap (``observed`` False) count for nothing, even half a window of them."""
    t = np.arange(48.0)
    size = 40 * np.exp(0.01 * t - 0.0002 * t ** 2)
    true = np.log(size) - np.log(size).mean()
    boxes = [[0, 0, s, 1.2 * s] for s in size]
    for frame in (10, 25, 40):
        boxes[frame][2] += 8
    for frame in (17, 32):
        boxes[frame][3] += 8
    path = np.asarray(scale_path(boxes))
    assert np.abs((path - path.mean()) - true).max() < 1e-9
    bridged = [[0, 0, 1.1 * s, 1.32 * s] if 10 <= i < 18 else [0, 0, s, 1.2 * s]
               for i, s in enumerate(size)]
    seen = [not 10 <= i < 18 for i in range(48)]
    path = np.asarray(scale_path(bridged, observed=seen))
    assert np.abs((path - path.mean()) - true).max() < 1e-9
    assert np.abs(np.asarray(scale_path(bridged)) - true).max() > 0.01  # all counted


def test_a_track_with_a_box_of_no_finite_size_is_placed_by_its_areas():
    frames = [[[10.0 + t, 20.0, 30.0, 30.0]] for t in range(20)]
    frames[7].append([60.0, 20.0, float('inf'), 30.0])
    scales = {box.track: box.scale for frame in track_video(frames) for box in frame}
    assert scales[1] is None and scales[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_scale_path_follows_a_zoom_through_boxes_grown_by_a_block(seed):
    """The stability benchmark's zoom (1.55 +- 0.1 over 48 frames), whole-pixel boxes whose
    height is a block (8 px) too tall on a random half of the frames (the localiser's, before a
    still camera: the width right, the height grown into the neck now and then). The smoothed
    boxes' areas miss the zoom's steps by 0.73-0.79 % RMS; the scale path by 0.09 %, and it
    stays within 0.15 % RMS of the zoom (up to a constant; 0.5 % at the track's ends)."""
    rng = np.random.default_rng(seed)
    t = np.arange(48)
    zoom = 1.55 + 0.1 * np.cos(2 * np.pi * t / 47)
    x, w, h = 100 + 3 * t, 44 * zoom, 50 * zoom
    grown = rng.random(48) < 0.5
    boxes = [[round(a), 80, round(a + c) - round(a), round(80 + d) - 80 + 8 * g]
             for a, c, d, g in zip(x, w, h, grown)]
    error = np.asarray(scale_path(boxes)) - np.log(zoom)
    assert np.sqrt(np.mean(np.diff(error) ** 2)) < 0.0015
    assert np.sqrt(np.mean((error - error.mean()) ** 2)) < 0.002
    assert np.abs(error - error.mean()).max() < 0.006  # the most at the track's ends
    smoothed = np.asarray(smooth_boxes(boxes))
    by_area = np.log(np.sqrt(smoothed[:, 2] * smoothed[:, 3])) - np.log(zoom)
    assert np.sqrt(np.mean(np.diff(by_area) ** 2)) > 0.005  # what the placement used before
    tracked = track_video([[b] for b in boxes])
    assert [f[0].scale for f in tracked] == pytest.approx(scale_path(boxes))


def test_each_track_carries_the_jitter_of_its_given_boxes():
    """A smooth path has none; boxes a block off every other frame have about that much."""
    smooth = [[[10 + 2 * t, 20, 30, 30]] for t in range(20)]
    assert track_video(smooth)[5][0].jitter == pytest.approx(0, abs=1e-6)
    wavering = [[[10 + 2 * t + (3 if t % 2 else -3), 20, 30, 30]] for t in range(20)]
    jitter = track_video(wavering)[5][0].jitter
    assert 2 < jitter < 6  # 3 px either way


@pytest.mark.parametrize('speed, grown', [
    (8, [-20, -24, 20, 48]),  # blocks up and left, into the surroundings (the localiser, rocket)
    (18, [0, 0, 47, 4]),      # a fast face's box reaches the right-hand neighbour (brick)
])
def test_a_box_grown_for_one_frame_keeps_its_track(speed, grown):
    """The localiser's box grows by a block or more on one side for a frame; a velocity from
    the last step alone (corner or centre: each fails on one of these) carried the jump on and
    cut the face's track in two on the frame after. The track's velocity is the median of its
    last 3 steps."""
    boxes = [[100 + speed * i, 120 + 2 * i, 58, 68] for i in range(10)]
    boxes[5] = [a + b for a, b in zip(boxes[5], grown)]
    tracks = track_video([[b] for b in boxes])
    assert {t.track for frame in tracks for t in frame} == {0}


def test_smoothing_does_not_follow_a_grid_staircase_or_an_outlier_at_a_track_end():
    """Boxes of a mosaic cut on a fixed 8 px grid around a face moving 1 px a frame stand still
    and jump 8 px: the smoothed boxes ramp (no jump of more than 2.1 px a frame, the plain fit's
    figure), not the staircase. A box grown by a block on a track's first or second frame is
    smoothed over as the plain fit does (the boxes after it decide; the fit weighs a track's
    first frame most)."""
    x = 100 + np.arange(40, dtype=float)
    stairs = [[8 * np.floor(v / 8), 50, 64, 64] for v in x]
    smoothed = np.array(smooth_boxes(stairs))
    assert np.abs(np.diff(smoothed[:, 0])).max() < 2.1
    for index, error in ((0, 2.7), (1, 1.2), (5, 1.1)):
        given = [[100 + 8 * t, 50, 60, 70] for t in range(20)]
        given[index] = [given[index][0] - 8, 42, 68, 78]
        smoothed = np.array(smooth_boxes(given))
        centres = smoothed[:, :2] + smoothed[:, 2:] / 2
        assert np.abs(centres[index] - [130 + 8 * index, 85]).max() < error, index
