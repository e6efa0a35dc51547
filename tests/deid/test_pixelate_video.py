"""A synthetic video goes through the builder with its frame count and frame rate kept."""
import json
import os.path as osp

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from rdid_mm.deid import build_deid_dataset

FRAMES, FPS = 9, 12


@pytest.fixture(scope='module')
def synthetic_video(tmp_path_factory, sample_img_dir):
    """A camera panning over a sample photo with two faces: 9 frames of 301x201 at 12 fps."""
    with Image.open(osp.join(sample_img_dir, '000000040083.jpg')) as im:
        photo = np.asarray(im.convert('RGB'))
    path = str(tmp_path_factory.mktemp('video') / 'cctv.mp4')
    writer = imageio_ffmpeg.write_frames(path, (301, 201), fps=FPS, codec='libx264',
                                         pix_fmt_out='yuv444p', macro_block_size=1,
                                         ffmpeg_log_level='error', output_params=['-crf', '10'])
    writer.send(None)
    for i in range(FRAMES):
        writer.send(np.ascontiguousarray(photo[80:281, 66 + i:367 + i]))
    writer.close()
    return path


def _frames(path):
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    width, height = meta['size']
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def test_video_keeps_frame_count_and_rate(synthetic_video, tmp_path):
    out_dir = str(tmp_path / 'out')
    summary = build_deid_dataset(video=synthetic_video, out_dir=out_dir, strengths=(8, 16),
                                 face_sources=('centerface', ))
    assert summary['video']['frames_in'] == summary['video']['frames_out'] == FRAMES
    with open(osp.join(out_dir, 'faces.json')) as f:
        faces = json.load(f)
    assert list(faces) == [str(i) for i in range(FRAMES)]
    assert all(len(boxes) >= 2 for boxes in faces.values()), 'both faces in every frame'
    with open(synthetic_video, 'rb') as a, open(osp.join(out_dir, 'gt', 'cctv.mp4'), 'rb') as b:
        assert a.read() == b.read()

    _, originals = _frames(synthetic_video)
    for strength in (8, 16):
        path = osp.join(out_dir, 'mosaic', f's{strength}', 'cctv.mp4')
        assert imageio_ffmpeg.count_frames_and_secs(path)[0] == FRAMES
        meta, mosaics = _frames(path)
        assert meta['fps'] == FPS and meta['size'] == (301, 201) and len(mosaics) == FRAMES
        x, y, w, h = faces['4'][0][:4]
        face = mosaics[4][y:y + h, x:x + w].astype(int)
        original_face = originals[4][y:y + h, x:x + w].astype(int)
        # the face lost its detail (lossy video: compare, do not match exactly)
        assert np.abs(np.diff(face, axis=1)).mean() < 0.6 * np.abs(np.diff(original_face,
                                                                            axis=1)).mean()
        outside = np.ones((201, 301), bool)
        for bx, by, bw, bh, _, _ in faces['4']:
            outside[by:by + bh, bx:bx + bw] = False
        assert np.abs(mosaics[4][outside].astype(int) - originals[4][outside]).mean() < 3


def test_video_refuses_annotation_sources_and_missing_files(synthetic_video, tmp_path):
    with pytest.raises(ValueError, match='read COCO annotations'):
        build_deid_dataset(video=synthetic_video, out_dir=str(tmp_path / 'a'),
                           face_sources=('coco_keypoints', ))
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        build_deid_dataset(video=str(tmp_path / 'in' / 'nope.mp4'), out_dir=str(tmp_path / 'b'),
                           face_sources=('centerface', ))
    broken = tmp_path / 'in' / 'broken.mp4'
    broken.parent.mkdir(exist_ok=True)
    broken.write_text('not a video')
    with pytest.raises(ValueError, match='broken.mp4: not a readable video'):
        build_deid_dataset(video=str(broken), out_dir=str(tmp_path / 'c'),
                           face_sources=('centerface', ))
