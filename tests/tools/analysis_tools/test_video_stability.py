"""tools/analysis_tools/video_stability.py: the moving-camera video, its measures and the table,
on a short clip with a stand-in restorer."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from rdid_mm.restore.restore_video import read_video_frames
from rdid_mm.utils.io import read_image

from tests.helpers import load_tool

video_stability = load_tool('analysis_tools/video_stability')


def hallucinate(crops):
    """Inverts, plus smooth detail that differs for every different input (as a GAN's does)."""
    out = []
    for crop in crops:
        rng = np.random.default_rng(int(crop.astype(np.int64).sum()))
        h, w = crop.shape[:2]
        coarse = rng.uniform(-40, 40, (h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
        detail = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        out.append(np.clip(255 - crop + detail, 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope='module')
def photo_and_faces(deid_sample, sample_img_dir):
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)['000000040083.jpg']
    photo = read_image(osp.join(sample_img_dir, '000000040083.jpg')).rgb
    return photo, [b[:4] for b in faces]


def test_the_camera_moves_the_faces_and_keeps_them_in_view(photo_and_faces):
    photo, faces = photo_and_faces
    views = video_stability.camera_path(24, photo.shape[1::-1], faces)
    boxes = np.array([[video_stability.moved_box(f, v) for f in faces] for v in views])
    width, height = video_stability.OUT_SIZE
    assert (boxes[..., 0] >= 0).all() and (boxes[..., 0] + boxes[..., 2] <= width).all()
    assert (boxes[..., 1] >= 0).all() and (boxes[..., 1] + boxes[..., 3] <= height).all()
    steps = np.abs(np.diff(boxes[..., :2], axis=0))
    assert steps.max() > 2 and np.abs(np.diff(boxes[..., 2], axis=0)).max() > 0.2  # pan, zoom


def test_subject_motion_moves_the_heads_before_a_still_camera(photo_and_faces):
    photo, faces = photo_and_faces
    views = video_stability.camera_path(24, photo.shape[1::-1], faces)
    still = video_stability.render(photo, views[0])
    frame = video_stability.subject_frame(photo, faces, views[0], views[12])
    moving = video_stability.render(photo, views[12])
    heads = np.zeros(frame.shape[:2], bool)
    for box in faces:
        x, y, w, h = video_stability.moved_box(box, views[12])
        inner = (slice(int(y) + 1, int(y + h)), slice(int(x) + 1, int(x + w)))
        assert np.array_equal(frame[inner], moving[inner])  # the face as the path has it
        heads[max(int(y - h), 0):int(y + 2 * h), max(int(x - w), 0):int(x + 2 * w)] = True
    assert np.array_equal(frame[~heads], still[~heads])  # the background does not move
    assert not np.array_equal(frame, still)
    with pytest.raises(ValueError, match='motion must be one of'):
        video_stability.make_videos(photo, faces, '/nonexistent', 2, motion='walk')


def test_a_still_camera_shows_no_seam_the_localiser_takes_for_a_mosaic(sample_dir):
    """The moving heads are soft-edged ellipses: pasted as rectangles, their straight seams
    were found as mosaics in the original, unpixelated frames (tuning:rocket, seed 2: on 3 of
    these 4 frames), false boxes that split the localiser's tracks before a still camera."""
    from rdid_mm.restore.localiser import locate_mosaics
    photo, faces = video_stability.composite_photo('tuning', 'rocket', sample_dir, seed=2)
    views = video_stability.camera_path(48, photo.shape[1::-1], faces)
    for index in (33, 35, 36, 38):
        frame = video_stability.subject_frame(photo, faces, views[0], views[index])
        assert locate_mosaics(frame) == [], index


def test_refilm_moves_the_first_frame_as_the_camera_moves(photo_and_faces, tmp_path):
    """The 'restored once, filmed' row's video: the first frame carried along the path shows
    the faces where the camera shows them (as rendering the photo does, within resampling)."""
    photo, faces = photo_and_faces
    views = video_stability.camera_path(24, photo.shape[1::-1], faces)
    first = video_stability.render(photo, views[0])
    for view in views[6::6]:
        refilmed = video_stability.refilm(first, views[0], view)
        filmed = video_stability.render(photo, view)
        for box in faces:
            x, y, w, h = video_stability.moved_box(box, view)
            inner = (slice(int(y) + 2, int(y + h) - 2), slice(int(x) + 2, int(x + w) - 2))
            assert np.abs(refilmed[inner].astype(int) - filmed[inner].astype(int)).mean() < 2.5
    video = dict(views=views[:4])
    restored = str(tmp_path / 'restored.mp4')
    video_stability._write(restored, [first] * 4, video_stability.OUT_SIZE, 12, None)
    path = video_stability.film_restored_once(restored, video, str(tmp_path / 'once.mp4'))
    assert video_stability.video_format(path)['frames'] == 4


def test_face_sharpness_is_lower_for_a_blurred_film_of_the_same_faces(photo_and_faces, tmp_path):
    photo, faces = photo_and_faces
    video = video_stability.make_videos(photo, faces, str(tmp_path), frames=6)
    soft = str(tmp_path / 'soft.mp4')
    frames = read_video_frames(video['original'])
    video_stability._write(soft, (cv2.GaussianBlur(f, (0, 0), 1.0) for f in frames),
                           video_stability.OUT_SIZE, video_stability.FPS, None)
    sharp = video_stability.face_figures(video['original'], video)['sharpness']
    assert 0 < video_stability.face_figures(soft, video)['sharpness'] < 0.8 * sharp


def test_the_composite_sets_share_no_photo():
    """Each set is measured apart (tune on one, quote the others), so no photo is in two, and
    the quoted sets use the evaluation faces, never the tuning ones."""
    sets = video_stability.COMPOSITES
    names = [name for photos in sets.values() for name in photos]
    assert len(names) == len(set(names))
    assert {'held-out', 'fresh'} <= set(sets)
    assert video_stability._FACE_SETS['held-out'] == video_stability._FACE_SETS['fresh'] \
        == 'evaluation'


def test_composite_photos_have_pasted_faces_the_camera_keeps_in_view(sample_dir):
    """The tuning, held-out and fresh composites: the localiser's images of the set with its faces
    pasted, every face inside every frame of the path."""
    load_image = load_tool('analysis_tools/localiser_cases').load_image
    for set_name, names in video_stability.COMPOSITES.items():
        for name in names:
            photo, faces = video_stability.composite_photo(set_name, name, sample_dir)
            source = 'matplotlib' if name == 'grace_hopper' else 'skimage'
            background = load_image(f'{source}:{name}', sample_dir)
            assert len(faces) == 2 and photo.shape == background.shape
            views = video_stability.camera_path(48, photo.shape[1::-1], faces)
            width, height = video_stability.OUT_SIZE
            for x, y, w, h in faces:
                assert 34 <= w <= 46
                centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
                assert np.abs(photo[centre].astype(int) - background[centre]).mean() > 10
                for view in views:
                    mx, my, mw, mh = video_stability.moved_box((x, y, w, h), view)
                    assert mx >= 0 and my >= 0 and mx + mw <= width and my + mh <= height
    with pytest.raises(ValueError, match='held-out photo must be one of'):
        video_stability.composite_photo('held-out', 'coffee')  # a tuning image


@pytest.mark.slow
def test_measure_prints_the_table(photo_and_faces, tmp_path):
    from rdid_mm.privacy.embedders import build_embedder
    photo, faces = photo_and_faces
    result = video_stability.measure(hallucinate, photo, faces, str(tmp_path), frames=16,
                                     embedder=build_embedder('dlib'),
                                     runs=(('frame', 'exact'), ('track', 'exact')))
    rows = result['rows']
    assert list(rows) == ['original', 'pixelated', 'frame exact', 'track exact',
                          'restored once, filmed']
    assert 0 < rows['restored once, filmed']['flicker'] < rows['frame exact']['flicker']
    assert rows['original']['flicker'] < rows['pixelated']['flicker']
    assert rows['track exact']['flicker'] < rows['frame exact']['flicker']
    assert rows['track exact']['format_unchanged'] and rows['frame exact']['format_unchanged']
    assert result['video']['audio'] and result['video']['frames'] == 16
    assert rows['track exact']['tracks'] == len(faces)
    for name in ('original', 'frame exact', 'track exact'):
        identity = rows[name]['identity']
        assert identity['pairs'] == len(faces) * 120 and 0 <= identity['median'] <= identity['p95']
    text = video_stability.table(result)
    assert text.splitlines()[0].startswith('| video | flicker in face boxes | face sharpness |')
    assert all(rows[name]['sharpness'] > 0 for name in rows)
    assert len(text.splitlines()) == 7


def test_a_wrong_image_is_one_line_naming_it_before_the_model_loads(sample_dir):
    with pytest.raises(SystemExit, match=r'--image held-out:coffee: held-out photo must be one of'):
        video_stability.main(['--image', 'held-out:coffee', '--sample', sample_dir,
                              '--config', '/nonexistent.py'])  # never read: the photo fails first


def test_the_seed_chooses_the_composite_from_the_command_line(sample_dir, monkeypatch):
    """``--seed`` reaches :func:`composite_photo` (the default stays 1), and seeds differ."""
    one, faces_one = video_stability.composite_photo('tuning', 'coffee', sample_dir, seed=1)
    two, faces_two = video_stability.composite_photo('tuning', 'coffee', sample_dir, seed=2)
    assert faces_one != faces_two or not np.array_equal(one, two)
    seen = []

    def stop(set_name, name, sample, seed):
        seen.append(seed)
        raise ValueError('stop here')
    monkeypatch.setattr(video_stability, 'composite_photo', stop)
    for extra, seed in (([], 1), (['--seed', '3'], 3)):
        with pytest.raises(SystemExit, match='tuning:coffee: stop here'):
            video_stability.main(['--image', 'tuning:coffee', '--sample', sample_dir,
                                  '--config', '/nonexistent.py'] + extra)
    assert seen == [1, 3]


def test_runs_and_the_localisers_stride_reach_measure_from_the_command_line(sample_dir,
                                                                             monkeypatch):
    """``--runs`` picks the restorations, ``--network-every`` the localiser's learned detector
    on video frames (default: restore_video's)."""
    import rdid_mm.models.restorers as restorers
    import rdid_mm.restore.generator as generator
    seen = []

    def stop(restorer, photo, faces, folder, frames, embedder, runs, codec, **kwargs):
        seen.append((runs, kwargs['network_every']))
        raise ValueError('stop here')
    monkeypatch.setattr(generator, 'init_model', lambda *a, **k: None)
    monkeypatch.setattr(restorers, 'model_restorer', lambda model: None)
    monkeypatch.setattr(video_stability, 'measure', stop)
    for extra in ([], ['--runs', 'track-localiser', '--network-every', '1']):
        with pytest.raises(ValueError, match='stop here'):
            video_stability.main(['--image', 'tuning:coffee', '--sample', sample_dir,
                                  '--no-identity'] + extra)
    assert seen == [(list(video_stability.RUNS), None), ([('track', 'localiser')], 1)]


def test_a_stride_below_one_is_refused_before_any_video_is_made(capsys):
    with pytest.raises(SystemExit):
        video_stability.parse_args(['--network-every', '0'])
    assert '--network-every must be at least 1 (every frame), got 0' in capsys.readouterr().err
