"""``FaceRegionQualityMetric``: PSNR and SSIM inside the face boxes, against the original."""
from typing import Any, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from rdid_mm.registry import METRICS
from rdid_mm.utils.io import read_rgb

from ..detection import to_uint8_chw
from ..face_quality import face_region_scores, summarize_scores
from .detector_ap_metric import REFERENCE_PATH_KEYS, group_by_strength, sample_path, strength_key


@METRICS.register_module()
class FaceRegionQualityMetric(BaseMetric):
    """Face-region PSNR/SSIM of ``pred_key`` against the original image (``gt_path``).

    Reported (prefix ``face``): ``face/PSNR``, ``face/SSIM`` for the prediction and, with
    ``compare_mosaic``, ``face/mosaic_PSNR``, ``face/mosaic_SSIM`` for the pixelated input, over
    the sample's ``face_boxes`` ([x, y, w, h] in original pixels), averaged over faces. With
    several strengths each is reported on its own (``face/s8/PSNR``) as well, and the unqualified
    names are those of ``select_strength`` (default: the smallest).
    """
    default_prefix = 'face'

    def __init__(self, pred_key: str = 'fake_gt', compare_mosaic: bool = True,
                 select_strength=None, collect_device: str = 'cpu', prefix: str = None,
                 collect_dir: str = None):
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.select_strength = select_strength
        self.pred_key = pred_key
        self.compare_mosaic = compare_mosaic

    def _image(self, sample: dict, key: str):
        if key in REFERENCE_PATH_KEYS:
            return read_rgb(sample_path(sample, key))
        return to_uint8_chw(sample[key]).cpu().permute(1, 2, 0).numpy()

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            boxes = sample.get('face_boxes')
            if boxes is None:
                raise KeyError(f'data sample of image {sample.get("img_id")} has no face_boxes')
            gt = read_rgb(sample_path(sample, 'img_gt'))
            strength = sample.get('strength')
            result = {'img_id': int(sample.get('img_id', -1)),
                      'strength': None if strength is None else int(strength),
                      'pred': face_region_scores(self._image(sample, self.pred_key), gt, boxes)}
            if self.compare_mosaic:
                result['mosaic'] = face_region_scores(self._image(sample, 'img_mosaic'), gt, boxes)
            self.results.append(result)

    def compute_metrics(self, results: list) -> dict:
        groups = group_by_strength(results, type(self).__name__)
        strengths = list(groups)
        metrics, per_strength = {}, {}
        for strength, by_image in groups.items():
            values = self._summary(list(by_image.values()), strength)
            per_strength[strength] = values
            key = strength_key(strengths, strength)
            metrics.update({f'{key}{name}': value for name, value in values.items()})
        if len(strengths) > 1:
            chosen = self.select_strength if self.select_strength is not None else strengths[0]
            metrics.update(per_strength[chosen])
        return metrics

    def _summary(self, results: list, strength) -> dict:
        pred = summarize_scores([s for r in results for s in r['pred']])
        metrics = {'PSNR': pred['PSNR'], 'SSIM': pred['SSIM'], 'faces': pred['faces']}
        if self.compare_mosaic:
            mosaic = summarize_scores([s for r in results for s in r['mosaic']])
            metrics.update(mosaic_PSNR=mosaic['PSNR'], mosaic_SSIM=mosaic['SSIM'])
        at = '' if strength is None else f' at strength {strength}'
        print_log(f'face regions{at} ({pred["faces"]} faces; '
                  f'{pred["faces_too_small_for_SSIM"]} too '
                  f'small for SSIM, {pred["identical_faces"]} identical to GT): '
                  + ', '.join(f'{k} {v:.3f}' for k, v in metrics.items() if k != 'faces'),
                  logger='current')
        return metrics
