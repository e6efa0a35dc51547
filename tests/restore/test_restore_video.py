"""Video restore: frame count, rate and size kept, audio copied, FFV1 lossless outside the boxes,
temporal consistency and flicker, broken videos counted."""
import io
import os.path as osp
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from rdid_mm.restore.loop import restore_input
from rdid_mm.restore.media import SYNTHETIC_TAG
from rdid_mm.restore.restore_video import read_video_frames, video_info
from rdid_mm.restore.run_progress import ProgressHook

from tests.helpers import changed_outside

FRAMES, FPS = 8, 10


def invert(crops):
    return [255 - c for c in crops]


@pytest.fixture(scope='module')
def builder_video(tmp_path_factory, sample_img_dir):
    """An H.264 video made by the builder: a camera panning over a sample photo (CenterFace
    faces pixelated at S=8), with a sine audio track muxed in."""
    from rdid_mm.deid import build_deid_dataset
    with Image.open(osp.join(sample_img_dir, '000000040083.jpg')) as im:
        photo = np.asarray(im.convert('RGB'))
    root = tmp_path_factory.mktemp('video')
    (root / 'camera').mkdir()
    raw = str(root / 'camera' / 'raw.mp4')
    writer = imageio_ffmpeg.write_frames(raw, (320, 200), fps=FPS, codec='libx264',
                                         pix_fmt_out='yuv444p', macro_block_size=1,
                                         ffmpeg_log_level='error', output_params=['-crf', '10'])
    writer.send(None)
    for i in range(FRAMES):
        writer.send(np.ascontiguousarray(photo[80:280, 50 + 2 * i:370 + 2 * i]))
    writer.close()
    build_deid_dataset(video=raw, out_dir=str(root / 'deid'), strengths=(8, ),
                       face_sources=('centerface', ), progress=False)
    mosaic = str(root / 'deid' / 'mosaic' / 's8' / 'raw.mp4')
    with_audio = str(root / 'cctv.mp4')
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-loglevel', 'error', '-i', mosaic, '-f',
                    'lavfi', '-i', f'sine=frequency=440:duration={FRAMES / FPS}', '-c:v', 'copy',
                    '-c:a', 'aac', '-shortest', '-metadata', 'location=Lobby 7', with_audio],
                   check=True)
    return with_audio


def _streams(path):
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-hide_banner', '-i', path],
                            capture_output=True, text=True)
    return result.stderr


@pytest.mark.parametrize('codec,temporal', [('h264', 'track'), ('ffv1', 'track'),
                                            ('ffv1', 'frame')])
def test_video_round_trip(builder_video, tmp_path, codec, temporal):
    folder = tmp_path / 'in'
    folder.mkdir()
    (folder / 'cctv.mp4').write_bytes(open(builder_video, 'rb').read())
    out = tmp_path / 'out'
    summary = restore_input(invert, str(folder), str(out), codec=codec, temporal=temporal)
    assert summary['videos'] == 1 and summary['failed'] == 0
    result = summary['video_results']['cctv.mp4']
    target = str(out / ('cctv.mp4' if codec == 'h264' else 'cctv.mkv'))
    source, restored = video_info(builder_video), video_info(target)
    assert restored['frames'] == source['frames'] == FRAMES
    assert restored['fps'] == source['fps'] and restored['size'] == source['size']
    assert result['frames_with_boxes'] == FRAMES   # the localiser finds the mosaic in each frame
    info = _streams(target)
    assert 'Audio: aac' in info and SYNTHETIC_TAG[:40] in info and 'Lobby 7' not in info
    assert ('h264' if codec == 'h264' else 'ffv1') in info
    if codec == 'ffv1':
        frames = zip(read_video_frames(builder_video), read_video_frames(target),
                     result['boxes_per_frame'])
        for frame_in, frame_out, corners in frames:
            boxes = [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in corners]
            assert boxes and (frame_in != frame_out).any()
            assert changed_outside(frame_in, frame_out, boxes) == 0
    flicker = result['flicker']
    assert flicker['pairs'] >= 1 and flicker['output'] is not None
    assert result['temporal'] == temporal
    if temporal == 'track':
        assert result['tracks'] >= 1 and result['keys'] >= 1 and result['reused'] >= 1


def hallucinate(crops):
    """A restorer that invents different detail for every different input, as a GAN does."""
    out = []
    for crop in crops:
        rng = np.random.default_rng(int(crop.astype(np.int64).sum()))
        out.append(np.clip(255 - crop.astype(int) + rng.integers(-40, 41, crop.shape), 0,
                           255).astype(np.uint8))
    return out


def test_track_mode_flickers_less_than_per_frame_on_a_moving_face(builder_video, tmp_path):
    """The camera pans, so each frame's mosaic differs: restored per frame, the invented detail
    changes every frame; along the track it is invented once and moves with the face."""
    flicker = {}
    for temporal in ('frame', 'track'):
        summary = restore_input(hallucinate, builder_video, str(tmp_path / temporal),
                                codec='ffv1', temporal=temporal)
        flicker[temporal] = summary['video_results']['cctv.mp4']['flicker']
    assert flicker['track']['output'] < 0.5 * flicker['frame']['output'], flicker


def test_temporal_mode_is_checked_and_recorded(builder_video, tmp_path):
    from rdid_mm.restore.items import RestoreInputError
    with pytest.raises(RestoreInputError, match='--temporal must be one of'):
        restore_input(invert, builder_video, str(tmp_path / 'out'), temporal='smooth')
    restore_input(invert, builder_video, str(tmp_path / 'out'), temporal='frame')
    with pytest.raises(RestoreInputError, match='other settings'):
        restore_input(invert, builder_video, str(tmp_path / 'out'), temporal='track')


def test_still_mosaic_gives_a_still_face(tmp_path, deid_sample):
    """The same mosaic in every frame (with codec noise): the restoration is reused, so the
    restored box changes no more than the input does."""
    frame = np.asarray(Image.open(osp.join(deid_sample, 'mosaic', 's16', '000000040083.png')))
    frame = np.ascontiguousarray(frame[:332, :500])
    path = str(tmp_path / 'still.mp4')
    writer = imageio_ffmpeg.write_frames(path, (500, 332), fps=5, codec='libx264',
                                         pix_fmt_out='yuv444p', macro_block_size=1,
                                         ffmpeg_log_level='error', output_params=['-crf', '23'])
    writer.send(None)
    rng = np.random.default_rng(0)
    for _ in range(5):
        noisy = np.clip(frame.astype(int) + rng.integers(-1, 2, frame.shape), 0, 255)
        writer.send(np.ascontiguousarray(noisy.astype(np.uint8)))
    writer.close()
    log = io.StringIO()
    summary = restore_input(lambda crops: [255 - c for c in crops], path, str(tmp_path / 'out'),
                            codec='ffv1', hooks=[ProgressHook(file=log)])
    result = summary['video_results']['still.mp4']
    assert result['reused'] > 0
    # within rounding: a key softened to a face's sharpness (MAX_REFERENCE) has values near
    # halves, and the registration's sub-pixel answer to the codec noise flips a few (0.001)
    assert result['flicker']['output'] <= result['flicker']['input'] + 0.002, result['flicker']
    # a video is one item: its frames have their own progress (track mode's first pass, the
    # boxes of every frame, too), then the item counts
    lines = log.getvalue().splitlines()
    assert lines[0].startswith('find faces still.mp4: 1/5 (20%), ? frames/s'), lines
    assert lines[1].startswith('find faces still.mp4: 5/5 (100%), '), lines
    assert lines[2].startswith('restore still.mp4: 1/5 (20%), ? frames/s'), lines
    assert lines[-2].startswith('restore still.mp4: 5/5 (100%), ') and ' frames/s, ' in lines[-2]
    assert lines[-1].startswith('restore 1/1 (100%), ') and len(lines) == 5, lines


def test_broken_video_is_counted(builder_video, tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    data = open(builder_video, 'rb').read()
    (folder / 'truncated.mp4').write_bytes(data[:len(data) // 3])
    (folder / 'garbage.mp4').write_bytes(b'\x00' * 5000)
    summary = restore_input(invert, str(folder), str(tmp_path / 'out'))
    messages = {m['file']: m for m in summary['messages']}
    assert 'garbage.mp4' in messages and messages['garbage.mp4']['kind'] == 'failed'
    assert summary['failed'] >= 1
    assert summary['failed'] + summary['videos'] == 2
    if 'truncated.mp4' in summary.get('video_results', {}):
        assert messages['truncated.mp4']['kind'] == 'broken_frames'
