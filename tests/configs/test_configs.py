"""Every config loads; the entry has the paper's settings; baselines inherit mmagic's bases."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import rdid_mm.datasets  # noqa: F401
import rdid_mm.models  # noqa: F401
from rdid_mm.registry import DATASETS, MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
ENTRY = osp.join(CONFIG_DIR, 'rdid_gan_coco.py')
OURS = osp.join(CONFIG_DIR, 'rdid_gan', 'rdid-gan_resnet-cbam_8xb4-lr2e-4-100e_deid-coco.py')
RESIZE = osp.join(CONFIG_DIR, 'rdid_gan', 'rdid-gan_resnet-cbam_8xb4-resize256-100e_deid-coco.py')
CYCLEGAN = osp.join(CONFIG_DIR, 'cyclegan', 'cyclegan_lsgan-id0-resnet-in_8xb4-100e_deid-coco.py')
PIX2PIX = osp.join(CONFIG_DIR, 'pix2pix', 'pix2pix_vanilla-unet-bn_8xb4-100e_deid-coco.py')
# the translation models' tiny configs (configs/downstream/ has its own tests)
TINY = sorted(p for d in ('rdid_gan', 'cyclegan', 'pix2pix')
              for p in glob.glob(osp.join(CONFIG_DIR, d, '*tiny*.py')))
ALL = [ENTRY] + sorted(p for d in ('rdid_gan', 'cyclegan', 'pix2pix')
                       for p in glob.glob(osp.join(CONFIG_DIR, d, '*.py')))


def metric_types(evaluator):
    items = evaluator if isinstance(evaluator, (list, tuple)) else evaluator.get('metrics', [])
    return [item['type'] for item in items]


@pytest.mark.parametrize('path', ALL, ids=lambda p: osp.relpath(p, CONFIG_DIR))
def test_config_loads_in_rdid_mm_scope_without_downloading_metrics(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'rdid_mm'
    assert cfg.runner_type == 'rdid_mm.engine.RDIDRunner'
    # the loops that fill the datasets from the top-level data_root and strengths
    assert cfg.train_cfg.type == 'RDIDIterBasedTrainLoop'
    assert cfg.val_cfg.type == 'RDIDValLoop' and cfg.test_cfg.type == 'RDIDTestLoop'
    types = metric_types(cfg.val_evaluator) + metric_types(cfg.test_evaluator)
    assert types and not {'TransFID', 'TransIS', 'FID', 'IS'} & set(types)
    assert 'FaceRegionQualityMetric' in types
    assert cfg.val_dataloader.batch_size == 1  # whole images of different sizes
    assert any(h['type'] == 'RestorationVisHook' for h in cfg.custom_hooks)
    assert cfg.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'


def test_entry_has_the_paper_settings():
    cfg = Config.fromfile(ENTRY)
    model = cfg.model
    assert model.type == 'RDIDGAN'
    assert model.generator.type == 'RDIDResnetGenerator' and model.generator.num_blocks == 9
    assert model.generator.cbam_positions == ('stem', 'down', 'res')
    assert (model.gan_loss.loss_weight, model.dist_loss.loss_weight,
            model.cycle_loss.loss_weight) == (1.0, 10.0, 10.0)
    assert model.gan_loss.gan_type == 'lsgan' and model.id_loss is None
    for net in ('generators', 'discriminators'):
        assert cfg.optim_wrapper[net].optimizer == dict(type='Adam', lr=0.002, betas=(0.5, 0.999))
    assert cfg.param_scheduler == []
    # 100 epochs at a global batch of 32; the per-GPU batch is derived (32 / GPUs)
    assert cfg.train_cfg.type == 'RDIDIterBasedTrainLoop'
    assert (cfg.train_cfg.max_epochs, cfg.train_cfg.global_batch_size) == (100, 32)
    assert cfg.train_dataloader.get('batch_size') is None and 'max_iters' not in cfg.train_cfg
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=32)
    crop = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'FaceAwareCrop']
    assert crop and tuple(crop[0]['crop_size']) == (256, 256)
    assert cfg.model.test_pad_divisor == 4


def test_recommended_variant_is_ours_with_cyclegan_schedule():
    cfg = Config.fromfile(OURS)
    assert 'Ours, not the paper' in open(OURS).read()
    assert cfg.optim_wrapper.generators.optimizer.lr == 2e-4
    assert cfg.param_scheduler == [dict(type='LinearLR', start_factor=1.0, end_factor=0.0,
                                        by_epoch=True, begin=50, end=100,
                                        convert_to_iter_based=True)]
    assert cfg.model == Config.fromfile(ENTRY).model


def test_paper_resize_is_an_option_not_the_default():
    types = [t['type'] for t in Config.fromfile(RESIZE).train_dataloader.dataset.pipeline]
    assert 'Resize' in types and 'FaceAwareCrop' not in types


def test_baselines_take_networks_and_losses_from_mmagic_bases():
    cyclegan = Config.fromfile(CYCLEGAN)
    assert "'../_base_/models/cyclegan_baseline.py'" in open(CYCLEGAN).read()
    assert "'../_base_/models/pix2pix_baseline.py'" in open(PIX2PIX).read()
    for model in ('cyclegan', 'pix2pix'):
        base = osp.join(CONFIG_DIR, '_base_', 'models', f'{model}_baseline.py')
        assert f"'mmagic::_base_/models/base_{model}.py'" in open(base).read()
    assert cyclegan.model.type == 'CycleGANBaseline' and cyclegan.model._scope_ == 'rdid_mm'
    assert cyclegan.model.generator.type == 'ResnetGenerator'
    assert cyclegan.model.loss_config == dict(cycle_loss_weight=10., id_loss_weight=0.)
    assert cyclegan.model.data_preprocessor.pad_size_divisor == 4
    pix2pix = Config.fromfile(PIX2PIX)
    assert pix2pix.model.type == 'Pix2PixBaseline' and pix2pix.model.generator.num_down == 8
    assert pix2pix.model.data_preprocessor.pad_size_divisor == 2**8
    assert pix2pix.model.reachable_domains == ['gt']
    for cfg in (cyclegan, pix2pix):
        assert cfg.optim_wrapper.generators.optimizer.lr == 2e-4


@pytest.mark.parametrize('path', [ENTRY, CYCLEGAN, PIX2PIX], ids=osp.basename)
def test_full_size_models_build(path):
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == cfg.model.type
    num_params = sum(p.numel() for p in model.generators.parameters())
    assert num_params > 10_000_000


@pytest.mark.parametrize('path', TINY, ids=osp.basename)
def test_tiny_configs_read_the_sample(path, deid_sample):
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.max_iters <= 4 and cfg.train_dataloader.num_workers == 0
    if 'pix2pix' in path:
        assert cfg.model.data_preprocessor.pad_size_divisor == 2**cfg.model.generator.num_down
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=deid_sample))
        item = dataset[0]
    assert item['inputs']['img_mosaic'].shape == item['inputs']['img_gt'].shape == (3, 64, 64)


@pytest.mark.parametrize('path', [ENTRY, OURS, RESIZE, CYCLEGAN, PIX2PIX],
                         ids=lambda p: osp.basename(p))
def test_full_configs_select_models_by_keypoint_ap_on_a_held_out_training_split(path):
    from rdid_mm.engine import resolve_data_settings
    cfg = resolve_data_settings(Config.fromfile(path))  # as the loops fill them
    train_set, val_set = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    test_set = cfg.test_dataloader.dataset
    assert (train_set.subset, val_set.subset) == ('train', 'val')
    assert train_set.num_val_images == val_set.num_val_images > 0
    assert train_set.data_root == val_set.data_root != test_set.data_root
    assert test_set.data_root.endswith('val2017') and test_set.get('subset', 'all') == 'all'
    # the metrics name no annotation file: each reads that of the dataset it scores
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        ap = [m for m in evaluator if m['type'] == 'DetectorAPMetric']
        assert ap and 'ann_file' not in ap[0]
    assert cfg.default_hooks.checkpoint.save_best == 'coco/kpt_AP'
    assert cfg.default_hooks.checkpoint.rule == 'greater'
    assert any(h['type'] == 'ReferenceRowsHook' for h in cfg.custom_hooks)


VANILLA_GAN = osp.join(CONFIG_DIR, 'rdid_gan',
                       'rdid-gan_resnet-cbam-vanilla-gan_8xb4-100e_deid-coco.py')


def _built_gan_loss(path):
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        return cfg, MODELS.build(cfg.model).gan_loss


def test_vanilla_gan_variant_uses_the_papers_log_likelihood_loss():
    """The paper's equation 1 on fixed logits x: real -mean(log sigmoid(x)), fake
    -mean(log(1 - sigmoid(x))), computed here without torch's BCE; the entry keeps LSGAN."""
    import torch
    logits = torch.tensor([[-3.0, -0.5, 0.0], [0.25, 1.5, 4.0]])
    probability = 1 / (1 + torch.exp(-logits.double()))
    cfg, loss = _built_gan_loss(VANILLA_GAN)
    entry = Config.fromfile(ENTRY)
    assert cfg.model.gan_loss.gan_type == 'vanilla' and cfg.model.gan_loss.loss_weight == 1.0
    assert {k: v for k, v in cfg.model.items() if k != 'gan_loss'} == {
        k: v for k, v in entry.model.items() if k != 'gan_loss'}
    assert cfg.optim_wrapper == entry.optim_wrapper and cfg.train_cfg == entry.train_cfg
    for is_disc in (False, True):
        real = loss(logits, True, is_disc=is_disc).item()
        fake = loss(logits, False, is_disc=is_disc).item()
        assert real == pytest.approx(-torch.log(probability).mean().item(), rel=1e-6)
        assert fake == pytest.approx(-torch.log(1 - probability).mean().item(), rel=1e-6)
    _, lsgan = _built_gan_loss(ENTRY)
    assert lsgan(logits, True).item() == pytest.approx(((logits - 1)**2).mean().item(), rel=1e-6)
    assert lsgan(logits, True).item() != pytest.approx(loss(logits, True).item(), rel=1e-3)


def test_no_dated_notes_in_config_files():
    """Measurements and their dates belong in the configs' READMEs or commit messages."""
    import re
    dated = [p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
             if re.search(r'\b20\d\d-\d\d-\d\d\b|[Mm]easured on', open(p).read())]
    assert dated == []
