"""What a table was computed from: the code's commit, the data, the models, the packages."""
from mmengine.config import Config

import rdid_mm
from rdid_mm.utils.provenance import code_commit, config_text_sha256, package_versions, sha256_of


def config_sha256(config: str) -> str:
    """sha256 of a config file's resolved text (``_base_`` files included)."""
    return config_text_sha256(Config.fromfile(config))


def table_provenance(ann_file: str, seed: int) -> dict:
    return dict(commit=code_commit(), rdid_mm=rdid_mm.__version__,
                ann_file=ann_file, ann_sha256=sha256_of(ann_file), bootstrap_seed=seed,
                packages=package_versions())


def provenance_note(info: dict) -> str:
    packages = ', '.join(f'{k} {v}' for k, v in info['packages'].items())
    return (f'Provenance: rdid_mm {info["rdid_mm"]} at commit {info["commit"]}; annotations '
            f'sha256 {info["ann_sha256"][:16]}; bootstrap seed {info["bootstrap_seed"]}; '
            f'{packages}; each model row\'s config and checkpoint sha256, and what its weights '
            'were trained from (seed, commit, config and annotation sha256), are in the CSV.')
