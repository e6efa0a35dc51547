"""The test entry point that ``tools/test.py`` calls: restore the test split and score it."""
import os.path as osp
from typing import Optional

from mmengine.model import is_model_wrapper

from rdid_mm.engine.data_settings import metric_cfgs
from rdid_mm.engine.weights import resolve_weights_path
from rdid_mm.models.restore_mode import default_mode
from rdid_mm.models.restorers import as_restorer, restoring_generator_prefix
from rdid_mm.utils.weights_file import CheckpointError, load_weights

from .train import build_runner, load_config

AP_METRIC_TYPES = ('DetectorAPMetric', 'rdid_mm.DetectorAPMetric', 'KeypointRCNNMetric',
                   'rdid_mm.KeypointRCNNMetric')  # the old name stays registered


def test(config: str, checkpoint: str, work_dir: Optional[str] = None, out: Optional[str] = None,
         paste_to_face_boxes: bool = False, cfg_options: Optional[dict] = None,
         launcher: str = 'none') -> dict:
    """Run the config's test loop with the weights in ``checkpoint``; return the metrics.

    Every translation model goes the same way (RDID-GAN, the baselines, any mmagic translation
    model the config names): full resolution, reflect padding, eval mode
    (:mod:`rdid_mm.models.restorers`), in the config's restore mode: a model trained on face
    crops restores each face box with context exactly as ``tools/restore.py`` and Table 1's model
    rows do, a model trained on whole images the whole image. The weights must hold the restoring
    generator exactly.

    Args:
        checkpoint: a weights file (``.safetensors``, or a weights-only ``.pth``), or a work_dir
            (its best checkpoint's weights file); files whose pickle would run code are refused;
            a missing or unexpected key is an error.
        out: folder for the detections (COCO results json) and the restored images.
        paste_to_face_boxes: keep the input outside the face boxes, restored pixels inside
            (whole-image models; region mode always does).
    """
    checkpoint = resolve_weights_path(checkpoint)
    if not osp.isfile(checkpoint):
        raise CheckpointError(f'checkpoint file not found: {checkpoint}')
    cfg = load_config(config, work_dir, cfg_options, launcher)
    cfg.load_from = None  # loaded below, strictly, into the restoring generator
    cfg.resume = False
    if out is not None:
        metrics = [m for _, m in metric_cfgs(cfg.test_evaluator) if m['type'] in AP_METRIC_TYPES]
        if not metrics:
            raise ValueError(f'--out needs a DetectorAPMetric in test_evaluator of {config}')
        for metric in metrics:
            metric['out_dir'] = out
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    as_restorer(model, paste_to_face_boxes=paste_to_face_boxes or None, where=config)
    if model.restore_mode is None:
        model.restore_mode = default_mode(cfg)
    load_weights(model, checkpoint, prefixes=[restoring_generator_prefix(model)])
    runner.logger.info(f'Weights of the restoring generator loaded from {checkpoint}')
    return runner.test()


def format_metrics_table(metrics: dict) -> str:
    """A two-column markdown table of a metrics dict (AP and AR as percentages)."""
    lines = ['| metric | value |', '|---|---|']
    for name, value in metrics.items():
        is_score = isinstance(value, float) and ('AP' in name or 'AR' in name)
        shown = f'{100 * value:.3f}' if is_score else value
        lines.append(f'| {name} | {shown} |')
    return '\n'.join(lines)
