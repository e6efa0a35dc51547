"""Settings a config states once: ``data_root``, the splits and ``strengths``.

``configs/_base_/datasets/deid_coco.py`` leaves ``data_root`` and ``strengths`` out of its
datasets and names them at the top level (``data_root``, ``train_split``, ``test_split``,
``strengths``). :func:`resolve_data_settings` fills every paired dataset from them when the config
is used (``load_config``, ``build_runner``), so a child config that sets ``strengths = [16]`` or
``data_root = ...`` changes every dataloader; a value set on one dataset stays that dataset's.
The evaluators follow their dataloader (``KeypointRCNNMetric`` without ``ann_file`` reads the
dataset's); an evaluator whose explicit ``ann_file`` is not its dataloader's is refused, naming
both keys.
"""
import os.path as osp
from typing import Iterator, Tuple

PAIRED_DATASETS = ('DeidPairedDataset', 'rdid_mm.DeidPairedDataset')
DEFAULT_ANN_FILE = osp.join('annotations', 'person_keypoints.json')
LOADER_SPLITS = (('train_dataloader', 'train_split'), ('val_dataloader', 'train_split'),
                 ('test_dataloader', 'test_split'))
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


def resolve_data_settings(cfg):
    """Fill ``data_root`` and ``strengths`` of every paired dataset from the top level of
    ``cfg`` (in place; idempotent), then check the evaluators against their dataloaders."""
    for loader, split_key in LOADER_SPLITS:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for path, dataset in paired_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'):
            if dataset.get('data_root') is None:
                if cfg.get('data_root') is None:
                    raise ValueError(f'{path}.data_root is not set, and the config has no '
                                     'top-level data_root to take it from')
                split = cfg.get(split_key)
                dataset['data_root'] = osp.join(cfg.data_root, split) if split else cfg.data_root
            if dataset.get('strengths') is None and cfg.get('strengths') is not None:
                dataset['strengths'] = [int(s) for s in cfg.strengths]
    check_evaluators(cfg)
    return cfg


def check_evaluators(cfg) -> None:
    """Refuse a metric whose explicit ``ann_file`` is not the one of the dataset it scores."""
    for loader, evaluator in EVALUATOR_OF.items():
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        datasets = list(paired_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'))
        if len(datasets) != 1 or datasets[0][1].get('data_root') is None:
            continue
        path, dataset = datasets[0]
        expected = dataset_ann_file(dataset)
        for key, metric in metric_cfgs(cfg.get(evaluator), evaluator):
            ann_file = metric.get('ann_file')
            if ann_file and osp.realpath(ann_file) != osp.realpath(expected):
                raise ValueError(
                    f'{key}.ann_file ({ann_file}) is not the annotation file of {path} '
                    f'(data_root={dataset["data_root"]}: {expected}); leave {key}.ann_file unset '
                    'so the metric follows its dataloader')
