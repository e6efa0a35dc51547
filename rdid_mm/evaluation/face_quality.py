"""Image quality inside the face boxes: PSNR and SSIM of a face region against the original.

Uses mmagic's ``psnr`` and ``ssim`` (SSIM as in the MATLAB reference: 11x11 Gaussian window, per
channel, averaged), on each face box cropped from both images. SSIM needs at least 11 pixels in
each direction; smaller faces get PSNR only (their SSIM is NaN and they are counted).
"""
import math
from typing import Dict, List, Sequence

import numpy as np

from rdid_mm.utils.boxes import box_to_slices

SSIM_MIN_SIDE = 11


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


def summarize_scores(scores: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """Mean PSNR (over faces with a finite value) and SSIM (over faces large enough)."""
    psnr_values = [s['PSNR'] for s in scores if math.isfinite(s['PSNR'])]
    ssim_values = [s['SSIM'] for s in scores if math.isfinite(s['SSIM'])]
    return {
        'PSNR': float(np.mean(psnr_values)) if psnr_values else math.nan,
        'SSIM': float(np.mean(ssim_values)) if ssim_values else math.nan,
        'faces': len(scores),
        'identical_faces': sum(1 for s in scores if s['PSNR'] == math.inf),
        'faces_too_small_for_SSIM': sum(1 for s in scores if math.isnan(s['SSIM'])),
    }
