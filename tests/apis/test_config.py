"""A config states data_root and strengths once: a child config changes every dataloader and
evaluator, and a config whose evaluator disagrees with its dataloader is refused."""
import os.path as osp

import pytest

from rdid_mm import apis
from rdid_mm.apis.config import resolve_data_settings
from tests.conftest import REPO_ROOT

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')
FULL = osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_full_config_datasets_follow_the_top_level(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{FULL}']\nstrengths = [16]\ndata_root = '/data/other'\n")
    cfg = apis.load_config(str(child))
    roots = [cfg[loader].dataset.data_root for loader in LOADERS]
    assert roots == ['/data/other/train2017', '/data/other/train2017', '/data/other/val2017']
    assert all(cfg[loader].dataset.strengths == [16] for loader in LOADERS)
    # evaluators name no annotation file: they read their dataloader's
    assert all('ann_file' not in m for m in cfg.val_evaluator + cfg.test_evaluator)


@pytest.mark.slow
def test_child_with_strength_16_trains_and_tests_at_16(tmp_path, deid_sample):
    child = tmp_path / 'child16.py'
    child.write_text(
        f"_base_ = ['{TINY}']\nstrengths = [16]\ndata_root = '{deid_sample}'\n"
        "train_cfg = dict(max_iters=1, val_interval=1)\ncustom_hooks = []\n"
        "test_evaluator = [dict(type='KeypointRCNNMetric', pred_key='fake_gt', device='cpu',\n"
        "                       detector=dict(weights=None, min_size=128, max_size=192,\n"
        "                                     box_detections_per_img=5)),\n"
        "                  dict(type='FaceRegionQualityMetric', pred_key='fake_gt')]\n")
    cfg = apis.load_config(str(child), work_dir=str(tmp_path / 'w'))
    runner = apis.build_runner(cfg)
    runner.train()
    trained = {runner.train_dataloader.dataset.get_data_info(i)['strength']
               for i in range(len(runner.train_dataloader.dataset))}
    assert trained == {16}
    metrics = runner.test()
    tested = runner.test_loop.dataloader.dataset
    assert {tested.get_data_info(i)['strength'] for i in range(len(tested))} == {16}
    assert all(tested.get_data_info(i)['mosaic_path'].split(osp.sep)[-2] == 's16'
               for i in range(len(tested)))
    metric = runner.test_loop.evaluator.metrics[0]
    assert metric.ann_file == tested.ann_file == osp.join(deid_sample, 'annotations',
                                                          'person_keypoints.json')
    assert 'coco/kpt_AP' in metrics and 'coco/s8/kpt_AP' not in metrics


def test_an_evaluator_that_disagrees_with_its_dataloader_is_refused(tmp_path, sample_ann_file):
    child = tmp_path / 'bad.py'
    child.write_text(
        f"_base_ = ['{FULL}']\n"
        f"test_evaluator = [dict(type='KeypointRCNNMetric', ann_file='{sample_ann_file}')]\n")
    with pytest.raises(ValueError) as err:
        apis.load_config(str(child))
    message = str(err.value)
    assert message.startswith(f'test_evaluator[0].ann_file ({sample_ann_file}) is not the '
                              'annotation file of test_dataloader.dataset')
    assert 'data_root=data/deid_coco/val2017' in message


def test_a_value_set_on_one_dataset_stays_its_own():
    from mmengine.config import Config
    cfg = Config.fromfile(FULL)
    cfg.merge_from_dict({'test_dataloader.dataset.strengths': [4]})
    resolve_data_settings(cfg)
    assert cfg.test_dataloader.dataset.strengths == [4]
    assert cfg.train_dataloader.dataset.strengths == [8]
