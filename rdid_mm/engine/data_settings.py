"""Settings a config states once, at its top level: ``data_root``, the splits and ``strengths``.

MMEngine substitutes a base file's variables when it parses that file, so a child config's
``data_root = ...`` never reaches the dataset dicts of ``configs/_base_/datasets/deid_coco.py`` by
itself. Those datasets therefore leave ``data_root`` and ``strengths`` out, and the loops fill them
from the top level of the config the Runner was built from (``runner.cfg``) when they build their
dataloader: :class:`~rdid_mm.engine.RDIDIterBasedTrainLoop`, :class:`~rdid_mm.engine.RDIDValLoop`
and :class:`~rdid_mm.engine.RDIDTestLoop`. A plain ``Runner.from_cfg(Config.fromfile(child))``
(``mim train``, mmagic's and mmdet's ``tools/train.py``) reads the child's folder, and so does
rdid_mm's own loader, through the same loops. A value set on one dataset stays that dataset's.

The evaluators follow their dataloader (``DetectorAPMetric`` without ``ann_file`` reads the
dataset's); the val and test loops refuse a metric whose explicit ``ann_file`` is not its
dataloader's, naming both keys. :func:`resolve_data_settings` applies all of it to a whole config
for code that reads one without building a Runner.
"""
import copy
import os.path as osp
from typing import Iterator, Optional, Tuple

PAIRED_DATASETS = ('DeidPairedDataset', 'rdid_mm.DeidPairedDataset')
DEFAULT_ANN_FILE = osp.join('annotations', 'person_keypoints.json')
#: the top-level split key each dataloader joins to ``data_root`` (None or unset: no subfolder)
SPLIT_OF = {'train_dataloader': 'train_split', 'val_dataloader': 'train_split',
            'test_dataloader': 'test_split'}
EVALUATOR_OF = {'val_dataloader': 'val_evaluator', 'test_dataloader': 'test_evaluator'}


def metric_cfgs(evaluator_cfg, path: str = '') -> Iterator[Tuple[str, dict]]:
    """``(key, metric config)`` for every metric inside an evaluator config."""
    if isinstance(evaluator_cfg, (list, tuple)):
        for index, item in enumerate(evaluator_cfg):
            yield from metric_cfgs(item, f'{path}[{index}]')
    elif isinstance(evaluator_cfg, dict):
        if 'metrics' in evaluator_cfg:
            yield from metric_cfgs(evaluator_cfg['metrics'], f'{path}.metrics')
        elif 'type' in evaluator_cfg:
            yield path, evaluator_cfg


def paired_datasets(dataset_cfg, path: str) -> Iterator[Tuple[str, dict]]:
    """``(key, dataset config)`` of every paired dataset, through dataset wrappers."""
    if not isinstance(dataset_cfg, dict):
        return
    if dataset_cfg.get('type') in PAIRED_DATASETS:
        yield path, dataset_cfg
        return
    for key in ('dataset', 'datasets'):
        inner = dataset_cfg.get(key)
        if isinstance(inner, (list, tuple)):
            for index, item in enumerate(inner):
                yield from paired_datasets(item, f'{path}.{key}[{index}]')
        else:
            yield from paired_datasets(inner, f'{path}.{key}')


def dataset_ann_file(dataset: dict) -> str:
    ann_file = dataset.get('ann_file') or DEFAULT_ANN_FILE
    return ann_file if osp.isabs(ann_file) else osp.join(dataset['data_root'], ann_file)


def _where(cfg) -> str:
    filename = getattr(cfg, 'filename', None)
    return f'{filename}: ' if filename else ''


def fill_datasets(loader_cfg, cfg, loader: str) -> None:
    """Fill ``data_root`` and ``strengths`` of every paired dataset of ``loader_cfg`` (the config
    of ``cfg[loader]``) that does not set them, from the top level of ``cfg``; in place."""
    if not isinstance(loader_cfg, dict):
        return
    for path, dataset in paired_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'):
        if dataset.get('data_root') is None:
            if cfg.get('data_root') is None:
                raise ValueError(f'{_where(cfg)}{path}.data_root is not set, and the config has '
                                 'no top-level data_root to take it from')
            split = cfg.get(SPLIT_OF[loader])
            dataset['data_root'] = osp.join(cfg['data_root'], split) if split else cfg['data_root']
        if dataset.get('strengths') is None and cfg.get('strengths') is not None:
            dataset['strengths'] = [int(s) for s in cfg['strengths']]


def check_evaluator(evaluator_cfg, loader_cfg, loader: str, cfg=None) -> None:
    """Refuse a metric whose explicit ``ann_file`` is not the one of the dataset it scores."""
    if not isinstance(loader_cfg, dict):
        return
    datasets = list(paired_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'))
    if len(datasets) != 1 or datasets[0][1].get('data_root') is None:
        return
    path, dataset = datasets[0]
    expected = dataset_ann_file(dataset)
    for key, metric in metric_cfgs(evaluator_cfg, EVALUATOR_OF[loader]):
        ann_file = metric.get('ann_file')
        if ann_file and osp.realpath(ann_file) != osp.realpath(expected):
            raise ValueError(
                f'{_where(cfg)}{key}.ann_file ({ann_file}) is not the annotation file of {path} '
                f'(data_root={dataset["data_root"]}: {expected}); leave {key}.ann_file unset '
                'so the metric follows its dataloader')


def loader_with_settings(cfg, loader: str, loader_cfg, evaluator_cfg: Optional[object] = None):
    """What a loop builds from: a copy of ``loader_cfg`` with the top-level settings of ``cfg``
    filled in, its evaluator checked; a built dataloader is returned as it is."""
    if not isinstance(loader_cfg, dict):
        return loader_cfg
    loader_cfg = copy.deepcopy(loader_cfg)
    fill_datasets(loader_cfg, cfg, loader)
    if loader in EVALUATOR_OF:
        check_evaluator(evaluator_cfg, loader_cfg, loader, cfg)
    return loader_cfg


def resolve_data_settings(cfg):
    """Fill every dataloader of ``cfg`` as its loop would and check the evaluators (in place;
    idempotent): for code that reads a config's datasets without building a Runner."""
    for loader in SPLIT_OF:
        fill_datasets(cfg.get(loader), cfg, loader)
    for loader, evaluator in EVALUATOR_OF.items():
        check_evaluator(cfg.get(evaluator), cfg.get(loader), loader, cfg)
    return cfg
