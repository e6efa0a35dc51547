"""Every config runs under plain MMEngine: a child that sets only the top-level data_root (and
strengths) is built by ``Runner.from_cfg(Config.fromfile(child))``, with no rdid_mm loader in
between, and its datasets read the child's folder."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import RUNNERS, DefaultScope
from mmengine.runner import Runner

from tests.conftest import REPO_ROOT

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


def child_config(tmp_path, body: str) -> Config:
    path = tmp_path / 'child.py'
    path.write_text(f"_base_ = ['{TINY}']\n{body}")
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path / 'work')  # tools/train.py --work-dir
    return cfg


def paired(dataset):
    """The paired dataset inside the training loop's per-sample-seed wrapper."""
    while not hasattr(dataset, 'data_root'):
        dataset = dataset.dataset
    return dataset


@pytest.mark.slow
def test_a_child_setting_only_data_root_trains_two_iterations(tmp_path, deid_sample):
    cfg = child_config(tmp_path, f"data_root = '{deid_sample}'\n")
    cfg.train_cfg.max_iters = 2  # --cfg-options train_cfg.max_iters=2; validates at 2
    runner = Runner.from_cfg(cfg)
    assert type(runner) is Runner
    runner.train()
    assert runner.iter == 2 and osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    runner.test()
    datasets = [paired(loop.dataloader.dataset)
                for loop in (runner.train_loop, runner.val_loop, runner.test_loop)]
    assert [d.data_root for d in datasets] == [deid_sample] * 3
    for dataset in datasets:
        paths = [dataset.get_data_info(i)['mosaic_path'] for i in range(len(dataset))]
        assert paths and all(p.startswith(osp.join(deid_sample, 'mosaic', 's8')) for p in paths)


def test_the_default_folder_would_have_failed(tmp_path, monkeypatch):
    """Without the child's data_root the tiny config reads its own default, absent here."""
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(TINY)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FileNotFoundError, match=r'not found: data/deid_sample/annotations/'):
        runner.build_train_loop(cfg.train_cfg)


def test_top_level_strengths_reach_every_paired_dataset(tmp_path, deid_sample):
    cfg = child_config(tmp_path, f"data_root = '{deid_sample}'\nstrengths = [16]\n")
    runner = Runner.from_cfg(cfg)
    loops = (runner.build_train_loop(cfg.train_cfg), runner.build_val_loop(cfg.val_cfg),
             runner.build_test_loop(cfg.test_cfg))
    for loop in loops:
        dataset = paired(loop.dataloader.dataset)
        assert dataset.data_root == deid_sample and dataset.strengths == [16]
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        assert infos and {info['strength'] for info in infos} == {16}
        assert all(osp.dirname(info['mosaic_path']).endswith(osp.join('mosaic', 's16'))
                   for info in infos)


def test_an_evaluator_that_disagrees_is_refused_when_its_loop_is_built(
        tmp_path, deid_sample, sample_ann_file):
    own = osp.join(deid_sample, 'annotations', 'person_keypoints.json')
    for ann_file in (sample_ann_file, own):
        cfg = child_config(
            tmp_path, f"data_root = '{deid_sample}'\n"
            "test_evaluator = [dict(type='DetectorAPMetric', device='cpu', "
            f"ann_file='{ann_file}', detector=dict(weights=None, min_size=128, max_size=192))]\n")
        runner = Runner.from_cfg(cfg)
        if ann_file == own:  # its own annotation file is accepted
            assert runner.build_test_loop(cfg.test_cfg).evaluator.metrics[0].ann_file == own
            continue
        with pytest.raises(ValueError) as err:
            runner.build_test_loop(cfg.test_cfg)
        assert str(err.value).startswith(
            f"{tmp_path / 'child.py'}: test_evaluator[0].ann_file ({sample_ann_file}) is not the "
            'annotation file of test_dataloader.dataset')


def test_mmdet_style_runners_build_gives_rdid_runner_in_any_scope(tmp_path, deid_sample,
                                                                  monkeypatch):
    """mmdet's tools/train.py: MMEngine's root RUNNERS, before any default scope is set."""
    from rdid_mm.engine import RDIDRunner
    cfg = child_config(tmp_path, f"data_root = '{deid_sample}'\n")
    with monkeypatch.context() as patch:
        patch.setattr(DefaultScope, 'get_current_instance', classmethod(lambda cls: None))
        assert RUNNERS.get(cfg.runner_type) is RDIDRunner
    with DefaultScope.overwrite_default_scope('mmdet'):
        assert RUNNERS.get(cfg.runner_type) is RDIDRunner
    assert type(RUNNERS.build(cfg)) is RDIDRunner


def test_distributed_training_under_a_plain_runner_is_refused(tmp_path, deid_sample, monkeypatch):
    """A plain Runner (Runner.from_cfg) would not average gradients where the GAN's sub-networks
    bypass DDP, so every rank would train its own model: the loop refuses in one line. The
    distributed check is stood in for, on one process."""
    from rdid_mm.engine import train_loop
    monkeypatch.setattr(train_loop, 'needs_gradient_sync', lambda model: True)
    cfg = child_config(tmp_path, f"data_root = '{deid_sample}'\n")
    cfg.train_cfg.max_iters = 1
    runner = Runner.from_cfg(cfg)
    with pytest.raises(RuntimeError, match=r"^Runner: distributed training of this model needs "
                                           r"RDIDRunner \(tools/train.py"):
        runner.train()
    assert not osp.exists(osp.join(cfg.work_dir, 'iter_1.pth'))
