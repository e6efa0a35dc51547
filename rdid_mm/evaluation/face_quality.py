"""Image quality inside the face boxes: PSNR and SSIM of a face region against the original.

Uses mmagic's ``psnr`` and ``ssim`` (SSIM as in the MATLAB reference: 11x11 Gaussian window, per
channel, averaged), on each face box cropped from both images. SSIM needs at least 11 pixels in
each direction; smaller faces get PSNR only (their SSIM is NaN and they are counted).

A face identical to the original has an infinite PSNR. Means count every PSNR above
:data:`PSNR_CAP_DB` (100 dB) as 100 dB, so a perfect face raises the mean instead of vanishing
from it; per-face scores keep the true (infinite) value.
"""
import math
from typing import Dict, List, Sequence

import numpy as np

from rdid_mm.utils.boxes import box_to_slices

SSIM_MIN_SIDE = 11
#: The ceiling of a PSNR in a mean (dB): 100 dB is an MSE of 255^2 / 1e10, so only identical faces
#: and faces of over 150,000 values (about 225 x 225 pixels) differing by one grey level reach it.
PSNR_CAP_DB = 100.0


def face_region_scores(image: np.ndarray, reference: np.ndarray,
                       boxes: Sequence[Sequence[float]]) -> List[Dict[str, float]]:
    """PSNR and SSIM of ``image`` against ``reference`` (both H x W x 3 uint8) in each box."""
    from mmagic.evaluation.metrics.psnr import psnr
    from mmagic.evaluation.metrics.ssim import ssim
    if image.shape != reference.shape:
        raise ValueError(f'image {image.shape} and reference {reference.shape} differ in size')
    scores = []
    for box in boxes:
        rows, cols = box_to_slices(box, *reference.shape[:2])
        crop, ref_crop = image[rows, cols], reference[rows, cols]
        if crop.size == 0:
            continue
        small = min(crop.shape[:2]) < SSIM_MIN_SIDE
        scores.append({
            'PSNR': float(psnr(crop, ref_crop)),
            'SSIM': math.nan if small else float(ssim(crop, ref_crop)),
        })
    return scores


def mean_psnr(values: Sequence[float]) -> float:
    """The mean of PSNRs in dB, each capped at :data:`PSNR_CAP_DB` (identical faces count as
    100 dB, not dropped); NaN for no values."""
    capped = [min(float(v), PSNR_CAP_DB) for v in values if not math.isnan(v)]
    return float(np.mean(capped)) if capped else math.nan


def summarize_scores(scores: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """Mean PSNR (every face, capped at ``PSNR_CAP_DB``) and SSIM (over faces large enough)."""
    ssim_values = [s['SSIM'] for s in scores if math.isfinite(s['SSIM'])]
    return {
        'PSNR': mean_psnr([s['PSNR'] for s in scores]),
        'SSIM': float(np.mean(ssim_values)) if ssim_values else math.nan,
        'faces': len(scores),
        'identical_faces': sum(1 for s in scores if s['PSNR'] == math.inf),
        'faces_too_small_for_SSIM': sum(1 for s in scores if math.isnan(s['SSIM'])),
    }
