"""tools/analysis_tools/track_replay.py: the in-memory replay, its oracle placement and its
arguments, on a short clip with a stand-in restorer."""
import cv2
import numpy as np
import pytest

from tests.helpers import load_tool

track_replay = load_tool('analysis_tools/track_replay')
video_stability = track_replay.video_stability


def textured(crops):
    """A face's texture (noise blurred at 2 px, a face's contrast) whatever the input: resampled
    in place it barely changes, misplaced it flickers."""
    out = []
    for crop in crops:
        noise = np.random.default_rng(0).normal(0, 1, crop.shape).astype(np.float32)
        texture = cv2.GaussianBlur(noise, (0, 0), 2.0)
        out.append(np.clip(128 + 40 * texture / texture.std(), 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope='module')
def video(sample_dir):
    # 24 frames: fewer move the faces so fast between frames that their tracks are cut
    return track_replay.make_video('tuning:coffee', 2, 'subject', frames=24, sample=sample_dir)


@pytest.mark.slow
def test_the_true_path_is_where_the_exact_boxes_are(video):
    """The oracle's path is the one the boxes were cut on: each exact (whole-pixel) box's centre
    within half a pixel of the true centre, and a key frame's true placement onto itself is
    the identity."""
    offsets = []
    for view, boxes in zip(video['views'], video['exact']):
        for face, (x, y, w, h) in zip(video['faces'], boxes):
            offsets.append(track_replay.true_centre(face, view) - [x + w / 2 - 0.5,
                                                                     y + h / 2 - 0.5])
    assert np.abs(offsets).max() <= 0.5
    # the boxes' rounding is spread evenly about the true centres (a convention off by a
    # fraction of a pixel shows here: 48 centres, the mean's deviation about 0.04 px)
    assert np.abs(np.mean(offsets, axis=0)).max() < 0.15
    face, view = video['faces'][0], video['views'][3]
    assert np.allclose(track_replay.true_placement(face, view, view), np.eye(3))
    moved = track_replay.true_placement(face, video['views'][0], view)
    assert np.allclose(moved @ [*track_replay.true_centre(face, video['views'][0]), 1.0],
                       [*track_replay.true_centre(face, view), 1.0])


@pytest.mark.slow
def test_the_oracle_placement_flickers_less_than_a_noisy_one(video):
    exact = track_replay.replay(textured, video, 'exact', 'oracle')
    noisy = track_replay.replay(textured, video, 'exact', 'oracle', noise=0.5)
    rules = track_replay.replay(textured, video, 'exact')
    assert exact['flicker'] < 0.25 * noisy['flicker']  # 1.1 against 9.6 when written
    counts = rules['counts']
    placed = counts['registered'] + counts['mosaic_placed'] + counts['box_placed']
    assert placed == len(video['faces']) * len(video['frames'])  # each face, every frame
    assert len(video['localiser']) == len(video['frames'])


@pytest.mark.parametrize('argv,message', [
    (['--images', 'tuning:coffee', '--noise', '0.1'], '--noise needs --placement oracle'),
    (['--images', 'coffee'], '--images coffee: not a composite photo'),
    (['--images', 'tuning:coffee', '--placement', 'oracle', '--noise', '-0.5'],
     '--noise must be at least 0 px, got -0.5'),
    (['--images', 'tuning:coffee', '--frames', '1'], '--frames must be at least 2'),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit):
        track_replay.parse_args(argv)
    assert message in capsys.readouterr().err
