"""A few dozen training iterations of the tiny RDID-GAN learn more than the identity."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from rdid_mm import apis
from rdid_mm.registry import DATASETS
from rdid_mm.utils.boxes import box_to_slices

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')
CROP = 48
ITERS = 100


def face_crop_pipeline(cfg):
    """The training pipeline without the flip, packing the images into the data samples too."""
    pipeline = [dict(t) for t in cfg.train_dataloader.dataset.pipeline if t['type'] != 'Flip']
    pipeline[-1]['data_keys'] = ['img_mosaic', 'img_gt']
    return pipeline


def face_l1(sample, key):
    """Mean absolute difference to ``img_gt`` inside the (crop's) face boxes, over all faces."""
    gt = sample.img_gt.float()
    errors = []
    for box in sample.face_boxes:
        rows, cols = box_to_slices(box, *gt.shape[-2:])
        errors.append((sample.get(key).float()[:, rows, cols] - gt[:, rows, cols]).abs().mean())
    return errors


@pytest.mark.slow
def test_tiny_rdid_gan_restores_faces_better_than_the_mosaic(deid_sample, tmp_path):
    """Trained with the paper's losses and learning rate (0.002) on 48x48 face crops of the
    sample at strength 8 for 100 iterations, the restored faces of such crops (through
    ``val_step``, the path of the data contract) are closer to the originals than the mosaic."""
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': deid_sample,
        'train_dataloader.dataset.strengths': [8],
        'train_dataloader.batch_size': 4,
        'train_cfg.max_iters': ITERS,
        'train_cfg.val_interval': ITERS + 1,
        'param_scheduler': [],
        'optim_wrapper.generators.optimizer.lr': 2e-3,
        'optim_wrapper.discriminators.optimizer.lr': 2e-3,
        'default_hooks.checkpoint.interval': ITERS + 1,
        'default_hooks.checkpoint.save_last': False,
        'default_hooks.logger.interval': 50,
        'custom_hooks': [],
        'randomness.seed': 1,
    })
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'FaceAwareCrop')
    crop['crop_size'] = (CROP, CROP)
    cfg.val_dataloader.dataset.data_root = cfg.test_dataloader.dataset.data_root = deid_sample
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = apis.build_runner(cfg)
    runner.train()
    model = runner.model.eval()
    model.restore_mode = 'whole'  # the samples below are the crops: restore all of each

    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dict(cfg.train_dataloader.dataset,
                                      pipeline=face_crop_pipeline(cfg)))
    np.random.seed(0)
    restored, mosaic = [], []
    for idx in range(4 * len(dataset)):
        with torch.no_grad():
            out = model.val_step(pseudo_collate([dataset[idx % len(dataset)]]))[0]
        assert out.fake_gt.shape == (3, CROP, CROP)
        restored += face_l1(out, 'fake_gt')
        mosaic += face_l1(out, 'img_mosaic')
    restored_l1, mosaic_l1 = torch.stack(restored).mean(), torch.stack(mosaic).mean()
    print(f'face L1 after {ITERS} iterations: restored {restored_l1:.2f}, mosaic {mosaic_l1:.2f}')
    assert len(restored) >= 12
    assert restored_l1 < mosaic_l1
