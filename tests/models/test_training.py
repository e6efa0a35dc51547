"""Training through the real MMEngine Runner (rdid_mm's RDIDRunner) on the de-identified sample."""
import glob
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rdid_mm import apis
from rdid_mm.registry import MODELS
from rdid_mm.utils.weights_file import load_state_dict_file

from tests.helpers import run_tool

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = {
    'rdid_gan': 'configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py',
    'cyclegan': 'configs/cyclegan/cyclegan_lsgan-id0-resnet-in-tiny_1xb2-4i_deid-sample.py',
    'pix2pix': 'configs/pix2pix/pix2pix_vanilla-unet-bn-tiny_1xb2-4i_deid-sample.py',
}


def data_options(deid_sample):
    """--cfg-options pointing the tiny configs at the sample (validation at strength 8 only)."""
    options = {f'{loader}.dataset.data_root': deid_sample
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    options.update({'val_dataloader.dataset.strengths': [8],
                    'test_dataloader.dataset.strengths': [8]})
    return options


def tiny_cfg(name, deid_sample, work_dir, **options):
    cfg = Config.fromfile(osp.join(REPO_ROOT, TINY[name]))
    cfg.merge_from_dict(dict(data_options(deid_sample), **options))
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('name', list(TINY))
def test_two_iterations_save_weights_that_reload_and_a_checkpoint_that_resumes(
        name, deid_sample, tmp_path):
    work_dir = tmp_path / name
    runner = apis.build_runner(tiny_cfg(name, deid_sample, work_dir, **{'train_cfg.max_iters': 2}))
    runner.train()
    weights = work_dir / 'iter_2.safetensors'
    assert weights.is_file() and (work_dir / 'iter_2.pth').is_file()

    state_dict = load_state_dict_file(str(weights))  # safetensors: no pickle at all
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        fresh = MODELS.build(runner.cfg.model)
    fresh.load_state_dict(state_dict, strict=True)
    # parameters only: mmagic's Pix2Pix validates in train() mode, which moves BN running stats
    trained = dict(runner.model.named_parameters())
    assert all(torch.equal(state_dict[k], p.detach().cpu()) for k, p in trained.items())
    torch.save(state_dict, tmp_path / 'weights.pth')
    reloaded = torch.load(tmp_path / 'weights.pth', weights_only=True)
    assert reloaded.keys() == state_dict.keys()

    resumed = apis.build_runner(tiny_cfg(
        name, deid_sample, work_dir, resume=True, **{'train_cfg.max_iters': 3}))
    resumed.train()
    assert resumed.iter == 3
    assert (work_dir / 'iter_3.safetensors').is_file()
    log_file = glob.glob(str(work_dir / '*' / '*.log'))
    assert any('resumed' in open(path).read() for path in log_file)

    metrics = resumed.test()  # the test loop restores the 4 sample images at full resolution
    assert metrics['face/faces'] > 0 and 'face/PSNR' in metrics

    grids = glob.glob(str(work_dir / '*' / 'vis_data' / 'vis_image' / 'restoration_*_2.png'))
    assert len(grids) == 4  # the 4 sample images at strength 8


def test_the_test_entry_restores_the_sample_with_a_weights_file(deid_sample, tmp_path):
    work_dir = tmp_path / 'train'
    cfg = tiny_cfg('rdid_gan', deid_sample, work_dir, **{'train_cfg.max_iters': 2})
    apis.build_runner(cfg).train()
    metrics = apis.test(osp.join(REPO_ROOT, TINY['rdid_gan']), str(work_dir / 'iter_2.safetensors'),
                   work_dir=str(tmp_path / 'test'), paste_to_face_boxes=True,
                   cfg_options=data_options(deid_sample))
    assert {'face/PSNR', 'face/mosaic_PSNR'} <= set(metrics)


@pytest.mark.slow
def test_train_script_runs_the_entry_config(deid_sample, tmp_path):
    """``python tools/train.py configs/rdid_gan_coco.py`` with the paper-size networks: one
    iteration on one 256x256 face crop of the sample, saving its weights file."""
    options = [f'{loader}.dataset.data_root={deid_sample}'
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    options += ['train_cfg.max_iters=1', 'train_dataloader.batch_size=1',
                'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0',
                # hold out one of the four images for validation, as the config holds out 500
                'train_dataloader.dataset.num_val_images=1',
                'val_dataloader.dataset.num_val_images=1',
                # the reference-rows hook scores GT and Mosaic with a random-weights detector
                f'val_evaluator.0.ann_file={deid_sample}/annotations/person_keypoints.json',
                'val_evaluator.0.detector.weights=None', 'val_evaluator.0.detector.min_size=128',
                'val_evaluator.0.detector.max_size=192']
    result = run_tool(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
         osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py'), '--work-dir', str(tmp_path),
         '--cfg-options', *options], timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'ReferenceRowsHook: scoring the gt row (img_gt) once' in result.stdout
    assert (tmp_path / 'iter_1.safetensors').is_file()
    state_dict = load_state_dict_file(str(tmp_path / 'iter_1.safetensors'))
    assert any('.cbam.' in key for key in state_dict)
    assert state_dict['generators.gt.model.3.block.0.conv.weight'].shape == (256, 256, 3, 3)
