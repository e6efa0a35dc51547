"""The metric in MMEngine's validation loop with the reference-rows hook and save_best."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.model import BaseModel

from rdid_mm.engine import RDIDRunner, register_all_modules
from rdid_mm.engine.hooks import ReferenceRowsHook
from rdid_mm.evaluation import DetectorAPMetric
from rdid_mm.layout import DeidLayout

from tests.evaluation.detector_double import GroundTruthKeypointRCNN

PAIR_KEYS = ['img_mosaic', 'img_gt']
META_KEYS = ['img_id', 'ori_shape', 'face_boxes', 'gt_path', 'mosaic_path', 'strength']


class MosaicEcho(BaseModel):
    """A "restorer" that returns its pixelated input: its AP must equal the Mosaic row's."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.weight

    def train_step(self, data, optim_wrapper):
        loss = (self.weight - 2).pow(2).sum()
        optim_wrapper.update_params(loss)
        return {'loss': loss.detach()}

    def val_step(self, data):
        from mmagic.structures import DataSample  # after rdid_mm's numpy shim
        outputs = []
        for image, sample in zip(data['inputs']['img_mosaic'], data['data_samples']):
            out = DataSample()
            out.update(sample)
            out.set_tensor_data({'fake_gt': image.float()})
            outputs.append(out)
        return outputs


@pytest.fixture(scope='module')
def deid_double(deid_sample):
    layout = DeidLayout(deid_sample)
    expected = {s['img_id']: {'gt': s['gt_path'], 'mosaic': s['mosaic_path']}
                for s in layout.samples(8)}
    return GroundTruthKeypointRCNN(layout.ann_file, expected)


def _runner(work_dir, deid_sample, deid_double, resume=False):
    register_all_modules()
    dataset = dict(
        type='DeidPairedDataset', data_root=deid_sample, strengths=[8], test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile', key='img_mosaic', channel_order='rgb'),
            dict(type='LoadImageFromFile', key='img_gt', channel_order='rgb'),
            dict(type='PackInputs', keys=PAIR_KEYS, meta_keys=META_KEYS),
        ])
    loader = dict(batch_size=2, num_workers=0, dataset=dataset)
    metric = DetectorAPMetric(osp.join(deid_sample, 'annotations', 'person_keypoints.json'),
                              detector=deid_double)
    runner = RDIDRunner(
        model=MosaicEcho(),
        work_dir=str(work_dir),
        train_dataloader=dict(loader, sampler=dict(type='InfiniteSampler', shuffle=False)),
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(by_epoch=False, max_iters=4, val_interval=2),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        val_evaluator=[metric],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                            save_best='coco/kpt_AP', rule='greater')),
        custom_hooks=[dict(type='ReferenceRowsHook')],
        log_processor=dict(by_epoch=False),
        resume=resume,
        # a fixed seed: --resume refuses a run whose seed (None draws one) is not the checkpoint's
        randomness=dict(seed=2021),
        default_scope='rdid_mm')
    return runner


@pytest.mark.slow
def test_validation_logs_reference_rows_and_keeps_the_best_checkpoint(tmp_path, deid_sample,
                                                                      deid_double, monkeypatch):
    from rdid_mm.evaluation.metrics import detector_ap_metric
    loads = []
    real_load = detector_ap_metric.load_coco
    monkeypatch.setattr(detector_ap_metric, 'load_coco',
                        lambda path: loads.append(path) or real_load(path))
    runner = _runner(tmp_path, deid_sample, deid_double)
    deid_double.seen.clear()
    runner.train()
    # the reference rows and the metric share one loaded annotation set (two rows, two validations)
    assert len(loads) == 1, loads

    hook = next(h for h in runner.hooks if isinstance(h, ReferenceRowsHook))
    assert hook.reference['gt']['bbox_AP'] == pytest.approx(1.0)
    mosaic_ap = hook.reference['mosaic']['bbox_AP']
    assert 0.0 < mosaic_ap < 1.0
    hub = runner.message_hub
    assert hub.get_scalar('val/ref_gt/kpt_AP').current() == hook.reference['gt']['kpt_AP']
    assert hub.get_scalar('val/coco/bbox_AP').current() == pytest.approx(mosaic_ap)
    # each image: once per reference row (GT, Mosaic), then once per validation (two)
    seen_ids = [img_id for img_id, _, _ in deid_double.seen]
    assert len(seen_ids) == 16 and all(seen_ids.count(i) == 4 for i in set(seen_ids))
    assert glob.glob(osp.join(runner.log_dir, '..', 'best_coco_kpt_AP_iter_*.pth'))
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert 'ref_gt/kpt_AP' in log and 'ref_mosaic/bbox_AP' in log
    assert 'AP against the reference rows: bbox_AP ' in log


@pytest.mark.slow
def test_a_resumed_run_takes_the_reference_rows_from_the_checkpoint(tmp_path, deid_sample,
                                                                     deid_double):
    first = _runner(tmp_path, deid_sample, deid_double)
    first.train()
    reference = next(h for h in first.hooks if isinstance(h, ReferenceRowsHook)).reference
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))

    deid_double.seen.clear()
    resumed = _runner(tmp_path, deid_sample, deid_double, resume=True)
    resumed.train()
    hook = next(h for h in resumed.hooks if isinstance(h, ReferenceRowsHook))
    assert hook.reference == reference
    # iterations 3 and 4: one validation (at 4) and no reference scoring
    seen_ids = [img_id for img_id, _, _ in deid_double.seen]
    assert len(seen_ids) == len(set(seen_ids)) == 4
    assert resumed.message_hub.get_scalar('val/ref_mosaic/bbox_AP').current() == \
        reference['mosaic']['bbox_AP']
