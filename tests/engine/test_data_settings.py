"""A config states data_root and strengths once: a child config changes every dataloader and
evaluator, and a config whose evaluator disagrees with its dataloader is refused."""
import os.path as osp

import pytest
from mmengine.config import Config

from rdid_mm import apis
from rdid_mm.engine.data_settings import fill_datasets, resolve_data_settings

from tests.conftest import REPO_ROOT

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')
FULL = osp.join(REPO_ROOT, 'configs', 'rdid_gan_coco.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_full_config_datasets_follow_the_top_level(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{FULL}']\nstrengths = [16]\ndata_root = '/data/other'\n")
    cfg = resolve_data_settings(Config.fromfile(str(child)))
    roots = [cfg[loader].dataset.data_root for loader in LOADERS]
    assert roots == ['/data/other/train2017', '/data/other/train2017', '/data/other/val2017']
    assert all(cfg[loader].dataset.strengths == [16] for loader in LOADERS)
    # evaluators name no annotation file: they read their dataloader's
    assert all('ann_file' not in m for m in cfg.val_evaluator + cfg.test_evaluator)


def test_loaders_leave_the_datasets_unset_until_a_loop_fills_them():
    """MMEngine substitutes base variables at parse time: the filling is the loops' job."""
    cfg = Config.fromfile(FULL)
    assert all(cfg[loader].dataset.get('data_root') is None for loader in LOADERS)
    assert all(cfg[loader].dataset.get('strengths') is None for loader in LOADERS)


@pytest.mark.slow
def test_child_with_strength_16_trains_and_tests_at_16(tmp_path, deid_sample):
    child = tmp_path / 'child16.py'
    child.write_text(
        f"_base_ = ['{TINY}']\nstrengths = [16]\ndata_root = '{deid_sample}'\n"
        "train_cfg = dict(max_iters=1, val_interval=1)\ncustom_hooks = []\n"
        "test_evaluator = [dict(type='DetectorAPMetric', pred_key='fake_gt', device='cpu',\n"
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
        f"test_evaluator = [dict(type='DetectorAPMetric', ann_file='{sample_ann_file}')]\n")
    with pytest.raises(ValueError) as err:
        resolve_data_settings(Config.fromfile(str(child)))
    message = str(err.value)
    assert message.startswith(f'{child}: test_evaluator[0].ann_file ({sample_ann_file}) is not '
                              'the annotation file of test_dataloader.dataset')
    assert 'data_root=data/deid_coco/val2017' in message and '\n' not in message


def test_a_value_set_on_one_dataset_stays_its_own():
    cfg = Config.fromfile(FULL)
    cfg.merge_from_dict({'test_dataloader.dataset.strengths': [4]})
    resolve_data_settings(cfg)
    assert cfg.test_dataloader.dataset.strengths == [4]
    assert cfg.train_dataloader.dataset.strengths == [8]


def test_every_paired_dataset_inside_a_wrapper_is_filled():
    paired = dict(type='DeidPairedDataset', pipeline=[])
    loader = dict(dataset=dict(type='ConcatDataset', datasets=[
        dict(paired), dict(paired, data_root='/mine', strengths=[4]),
        dict(type='RepeatDataset', times=2, dataset=dict(paired))]))
    top = Config(dict(data_root='/data', train_split='train2017', strengths=[16, 8]))
    fill_datasets(loader, top, 'train_dataloader')
    inner = loader['dataset']['datasets']
    assert [inner[0]['data_root'], inner[1]['data_root'], inner[2]['dataset']['data_root']] == [
        '/data/train2017', '/mine', '/data/train2017']
    assert [inner[0]['strengths'], inner[1]['strengths'], inner[2]['dataset']['strengths']] == [
        [16, 8], [4], [16, 8]]


def test_a_dataset_without_any_data_root_is_one_line_naming_the_file(tmp_path):
    child = tmp_path / 'no_root.py'
    child.write_text(f"_base_ = ['{FULL}']\ndata_root = None\n")
    cfg = Config.fromfile(str(child))
    with pytest.raises(ValueError) as err:
        resolve_data_settings(cfg)
    assert str(err.value) == (f'{child}: train_dataloader.dataset.data_root is not set, and the '
                              'config has no top-level data_root to take it from')
