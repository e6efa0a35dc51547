"""For dataset owners: how identifiable are the mosaics of a builder output, per strength?

The same rank-based measure as the audit (the own original's rank among the dataset's embeddable
originals), so that an owner picks a strength with numbers. Called by
``tools/build_deid_dataset.py --privacy-check`` after the build (``rdid_mm.deid`` itself never
imports the privacy package).
"""
from typing import Dict, Optional, Sequence

import numpy as np

from .identity_audit import IdentityAudit


def privacy_check(deid_dir: str, strengths: Optional[Sequence[int]] = None,
                  embedder=None) -> Dict:
    """``{'strengths': {S: {...}}, 'lines': [...]}``: top-1/top-5 rates against chance per
    strength and face-size bucket, and the median distance to the own original."""
    audit = IdentityAudit(deid_dir, embedder=embedder)
    strengths = list(strengths or audit.layout.strengths())
    if not strengths:
        raise ValueError(f'{deid_dir}: no mosaic/sS folder to check')
    report = {}
    for strength in strengths:
        results = audit.score(audit.row(f'mosaic:s{strength}'))
        by_bucket = {}
        for bucket in ['all'] + sorted({r.bucket for r in results}):
            members = [r for r in results if bucket in ('all', r.bucket)]
            by_bucket[bucket] = dict(
                faces=len(members), top1=float(np.mean([r.top1 for r in members])),
                top5=float(np.mean([r.top5 for r in members])),
                median_distance=float(np.median([r.distance for r in members])))
        report[int(strength)] = by_bucket
    chance1, chance5 = audit.chance(1), audit.chance(5)
    lines = [f'privacy check ({audit.embedder.name}; {len(audit.faces)} faces of at least '
             f'{audit.embedder.min_face_size:g} px, {len(audit.too_small)} smaller left out; '
             f'gallery {audit.gallery.size}; chance top-1 {100 * chance1:.0f}%, '
             f'top-5 {100 * chance5:.0f}%):']
    for strength, by_bucket in report.items():
        for bucket, r in by_bucket.items():
            lines.append(f'  s{strength} {bucket:>7} px: {r["faces"]:4d} faces, own original '
                         f'top-1 {100 * r["top1"]:3.0f}%, top-5 {100 * r["top5"]:3.0f}%, median '
                         f'distance {r["median_distance"]:.3f}')
    return dict(strengths=report, chance_top1=chance1, chance_top5=chance5, lines=lines)
