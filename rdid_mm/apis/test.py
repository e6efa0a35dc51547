"""The test entry point that ``tools/test.py`` calls: restore the test split and score it."""
import os.path as osp
from typing import Optional

from rdid_mm.engine.checkpoint import CheckpointError
from .train import build_runner, load_config

AP_METRIC_TYPES = ('KeypointRCNNMetric', 'rdid_mm.KeypointRCNNMetric')


def _metric_cfgs(evaluator_cfg):
    """Every metric config inside an evaluator config (a dict, a list, or an Evaluator)."""
    if isinstance(evaluator_cfg, (list, tuple)):
        for item in evaluator_cfg:
            yield from _metric_cfgs(item)
    elif isinstance(evaluator_cfg, dict):
        if 'metrics' in evaluator_cfg:
            yield from _metric_cfgs(evaluator_cfg['metrics'])
        elif 'type' in evaluator_cfg:
            yield evaluator_cfg


def test(config: str, checkpoint: str, work_dir: Optional[str] = None, out: Optional[str] = None,
         paste_to_face_boxes: bool = False, cfg_options: Optional[dict] = None,
         launcher: str = 'none') -> dict:
    """Run the config's test loop with the weights in ``checkpoint``; return the metrics.

    Args:
        checkpoint: a weights file (``.safetensors``, or a weights-only ``.pth``); files whose
            pickle would run code are refused.
        out: folder for the detections (COCO results json) and the restored images.
        paste_to_face_boxes: keep the input outside the face boxes, restored pixels inside.
    """
    if not osp.isfile(checkpoint):
        raise CheckpointError(f'checkpoint file not found: {checkpoint}')
    cfg = load_config(config, work_dir, cfg_options, launcher)
    cfg.load_from = checkpoint
    cfg.resume = False
    if paste_to_face_boxes:
        cfg.model.paste_to_face_boxes = True
    if out is not None:
        metrics = [m for m in _metric_cfgs(cfg.test_evaluator) if m['type'] in AP_METRIC_TYPES]
        if not metrics:
            raise ValueError(f'--out needs a KeypointRCNNMetric in test_evaluator of {config}')
        for metric in metrics:
            metric['out_dir'] = out
    runner = build_runner(cfg)
    return runner.test()


def format_metrics_table(metrics: dict) -> str:
    """A two-column markdown table of a metrics dict (AP and AR as percentages)."""
    lines = ['| metric | value |', '|---|---|']
    for name, value in metrics.items():
        is_score = isinstance(value, float) and ('AP' in name or 'AR' in name)
        shown = f'{100 * value:.3f}' if is_score else value
        lines.append(f'| {name} | {shown} |')
    return '\n'.join(lines)
