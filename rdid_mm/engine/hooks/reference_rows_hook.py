"""``ReferenceRowsHook``: the GT and Mosaic rows, scored once and logged beside every validation."""
import copy
import sys
from typing import Dict, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log

from rdid_mm.evaluation.metrics.detector_ap_metric import DetectorAPMetric
from rdid_mm.evaluation.stage_timer import StageTimer
from rdid_mm.registry import HOOKS
from rdid_mm.utils.progress import ImageProgressBar


@HOOKS.register_module()
class ReferenceRowsHook(Hook):
    """Score the validation split's original (GT) and pixelated (Mosaic) images at train start.

    The detector, annotation file and settings are those of the ``DetectorAPMetric`` in the
    validation evaluator; the images are the files named by each sample's ``gt_path`` and
    ``mosaic_path``. After each validation the reference values are put into the message hub as
    ``val/ref_gt/kpt_AP``, ``val/ref_mosaic/kpt_AP`` etc., so the logger prints them beside the
    model's ``coco/kpt_AP``, and a line reads the model's AP against them.

    The values go into every checkpoint (``meta['reference_rows']``, with what they were scored
    on); a resumed run takes them from there instead of rescoring (minutes at COCO scale), unless
    the validation set or the rows changed.

    Args:
        rows: (name, pred_key) of each reference row.
        keys: which of the metric's results to log (names without prefix).
    """
    priority = 'NORMAL'  # after RuntimeInfoHook (records val metrics), before LoggerHook

    def __init__(self,
                 rows: Sequence[Tuple[str, str]] = (('gt', 'img_gt'), ('mosaic', 'img_mosaic')),
                 keys: Sequence[str] = ('bbox_AP', 'bbox_AP50', 'kpt_AP', 'kpt_AP50')):
        self.rows = [tuple(row) for row in rows]
        self.keys = tuple(keys)
        self.reference: Dict[str, Dict[str, float]] = {}
        self._metric_prefix: Optional[str] = None

    @staticmethod
    def _find_metric(runner) -> Optional[DetectorAPMetric]:
        for metric in runner.val_loop.evaluator.metrics:
            if isinstance(metric, DetectorAPMetric):
                return metric
        return None

    def _score_row(self, metric: DetectorAPMetric, dataloader, name: str, pred_key: str):
        _ = (metric.coco, metric.detector)  # load and build both once: the copy shares them
        row = copy.copy(metric)
        row.pred_key, row.out_dir, row.prefix = pred_key, None, f'ref_{name}'
        row.results, row.timer = [], StageTimer()
        progress = ImageProgressBar(len(dataloader), file=sys.stdout, unit='batches')
        for data_batch in dataloader:
            row.process(data_batch, data_batch['data_samples'])
            progress.update()
        progress.finish()
        results = row.evaluate(len(dataloader.dataset))
        return {key: results[f'ref_{name}/{key}'] for key in self.keys}

    def _scored_on(self, runner, metric: DetectorAPMetric) -> dict:
        """What the reference values depend on: annotation file, images, rows, keys."""
        dataset = runner.val_loop.dataloader.dataset
        img_ids = sorted(f"{info.get('img_id')}:{info.get('strength')}" for info in
                         (dataset.get_data_info(i) for i in range(len(dataset))))
        return dict(ann_file=str(metric.ann_file), img_ids=','.join(img_ids),
                    rows=[list(row) for row in self.rows], keys=list(self.keys))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.reference:
            checkpoint.setdefault('meta', {})['reference_rows'] = dict(
                values=self.reference, scored_on=self._scored_on_record)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('meta', {}).get('reference_rows')

    def before_train(self, runner) -> None:
        if runner.val_loop is None:
            print_log('ReferenceRowsHook: no validation loop; no reference rows', logger='current')
            return
        metric = self._find_metric(runner)
        if metric is None:
            raise ValueError('ReferenceRowsHook needs a DetectorAPMetric in val_evaluator')
        self._metric_prefix = metric.prefix
        self._scored_on_record = self._scored_on(runner, metric)
        loaded = getattr(self, '_loaded', None)
        if loaded and loaded.get('scored_on') == self._scored_on_record:
            self.reference = {name: dict(values) for name, values in loaded['values'].items()}
            print_log('ReferenceRowsHook: the reference rows from the resumed checkpoint '
                      '(not rescored)', logger='current')
            return
        if loaded:
            print_log('ReferenceRowsHook: the checkpoint\'s reference rows were scored on another '
                      'validation set or rows; rescoring', logger='current')
        for name, pred_key in self.rows:
            print_log(f'ReferenceRowsHook: scoring the {name} row ({pred_key}) once',
                      logger='current')
            self.reference[name] = self._score_row(metric, runner.val_loop.dataloader, name,
                                                   pred_key)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if not self.reference:
            return
        for name, values in self.reference.items():
            for key, value in values.items():
                runner.message_hub.update_scalar(f'val/ref_{name}/{key}', value)
        lines = []
        for key in self.keys:
            model_value = (metrics or {}).get(f'{self._metric_prefix}/{key}')
            shown = 'n/a' if model_value is None else f'{100 * model_value:.1f}'
            refs = ', '.join(f'{name} {100 * values[key]:.1f}'
                             for name, values in self.reference.items())
            lines.append(f'{key} {shown} ({refs})')
        runner.logger.info('AP against the reference rows: ' + '; '.join(lines))
