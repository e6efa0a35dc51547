"""``FaceRegionQualityMetric``: PSNR and SSIM inside the face boxes, against the original."""
from typing import Any, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from rdid_mm.registry import METRICS
from ..detection import to_uint8_chw
from ..face_quality import face_region_scores, summarize_scores
from ..files import read_rgb
from .keypoint_rcnn_metric import REFERENCE_PATH_KEYS, sample_path


@METRICS.register_module()
class FaceRegionQualityMetric(BaseMetric):
    """Face-region PSNR/SSIM of ``pred_key`` against the original image (``gt_path``).

    Reported (prefix ``face``): ``face/PSNR``, ``face/SSIM`` for the prediction and, with
    ``compare_mosaic``, ``face/mosaic_PSNR``, ``face/mosaic_SSIM`` for the pixelated input, over
    the sample's ``face_boxes`` ([x, y, w, h] in original pixels), averaged over faces.
    """
    default_prefix = 'face'

    def __init__(self, pred_key: str = 'fake_gt', compare_mosaic: bool = True,
                 collect_device: str = 'cpu', prefix: str = None, collect_dir: str = None):
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
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
            result = {'pred': face_region_scores(self._image(sample, self.pred_key), gt, boxes)}
            if self.compare_mosaic:
                result['mosaic'] = face_region_scores(self._image(sample, 'img_mosaic'), gt, boxes)
            self.results.append(result)

    def compute_metrics(self, results: list) -> dict:
        pred = summarize_scores([s for r in results for s in r['pred']])
        metrics = {'PSNR': pred['PSNR'], 'SSIM': pred['SSIM'], 'faces': pred['faces']}
        if self.compare_mosaic:
            mosaic = summarize_scores([s for r in results for s in r['mosaic']])
            metrics.update(mosaic_PSNR=mosaic['PSNR'], mosaic_SSIM=mosaic['SSIM'])
        print_log(f'face regions ({pred["faces"]} faces; {pred["faces_too_small_for_SSIM"]} too '
                  f'small for SSIM, {pred["identical_faces"]} identical to GT): '
                  + ', '.join(f'{k} {v:.3f}' for k, v in metrics.items() if k != 'faces'),
                  logger='current')
        return metrics
