"""``tools/privacy_audit.py``: score rows of a de-identified dataset and write the report."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.logging import print_log

from rdid_mm.datasets.training_split import read_training_split, training_image_ids
from rdid_mm.utils.io import atomic_write, atomic_write_json, remove_staging_files

from .identity_audit import DEFAULT_BUCKETS, IdentityAudit, summarize_rows
from .report import faces_csv, plot_audit, summary_csv, summary_markdown


def privacy_audit(deid_dir: str, rows: Sequence[str], out_dir: str, embedder=None,
                  gallery_dir: Optional[str] = None, align: str = 'own',
                  weights: Optional[str] = None, buckets: Sequence[float] = DEFAULT_BUCKETS,
                  num_bootstrap: int = 1000, seed: int = 0, progress: bool = False) -> dict:
    """Audit ``rows`` (``original`` is always added first) and write into ``out_dir``:
    ``privacy_audit.md``, ``privacy_audit.csv`` (per row, split and face size),
    ``privacy_faces.csv`` (per face) and ``privacy_audit.png``.

    With ``weights`` (a weights file recording its training split), faces are split into those of
    the model's training images and held-out ones (the memorisation check). ``progress``: images
    done and ETA per row on stdout.
    """
    audit = IdentityAudit(deid_dir, embedder=embedder, gallery_dir=gallery_dir, align=align,
                          buckets=buckets, progress=progress)
    memorisation = 'not checked (no --weights)'
    if weights:
        record = read_training_split(weights)
        if record is None:
            memorisation = f'not checked: {weights} records no training split'
        else:
            trained = training_image_ids(record, audit.layout.ann_file)
            audit.train_ids = trained or set()
            memorisation = (f'{len(audit.train_ids)} of the images are in the training split of '
                            f'{weights}' if trained else
                            f'{weights} was trained on another annotation file: every image is '
                            'held out')
    specs = ['original'] + [r for r in rows if r != 'original']
    parsed = [audit.row(spec) for spec in specs]
    names = [row.name for row in parsed]
    if len(set(names)) != len(names):
        raise ValueError(f'two rows share a name: {names}')
    if osp.realpath(out_dir) == osp.realpath(deid_dir):
        raise ValueError(f'--out {out_dir} must not be the dataset folder')
    results = []
    for row in parsed:
        scored = audit.score(row)
        print_log(f'{row.name}: {sum(r.top1 for r in scored)} of {len(scored)} faces identified '
                  'at top-1', logger='current')
        results += scored
    embedder = audit.embedder
    summaries = summarize_rows(results, embedder.threshold, num_bootstrap, seed)
    chance = {1: audit.chance(1), 5: audit.chance(5)}
    flagged = [r for r in results if r.top1 and any(
        row.kind == 'restored' and row.name == r.row for row in parsed)]
    gallery = audit.gallery
    header = [
        f'Dataset: `{deid_dir}`; embedder: {embedder.name} (same-person threshold '
        f'{embedder.threshold:g}), aligned with the landmarks found in '
        f'{"each image" if align == "own" else "the original"}.',
        f'Faces: {len(audit.faces)} of at least {embedder.min_face_size:g} px (sqrt(w h) of the '
        f'face box) are audited; {len(audit.too_small)} smaller faces are left out.',
        f'Gallery: {gallery.size} faces ({gallery.num_dataset_faces} originals of the dataset, '
        f'{gallery.size - gallery.num_dataset_faces} from the gallery folder). Rank 1: the own '
        'original is the nearest gallery face.',
        f'Memorisation split: {memorisation}.',
        f'Intervals: {num_bootstrap} bootstrap resamples of the faces (seed {seed}).',
        'The embedder is a proxy for an attacker, who may do better (another model, one trained '
        'on pixelated faces, or side information).',
    ]
    os.makedirs(out_dir, exist_ok=True)
    remove_staging_files(out_dir)  # what a run killed while writing its report left
    paths = {name: osp.join(out_dir, name) for name in (
        'privacy_audit.md', 'privacy_audit.csv', 'privacy_faces.csv', 'privacy_audit.png',
        'privacy_audit.json')}
    atomic_write(paths['privacy_audit.md'],
                 summary_markdown(summaries, chance, names, header, flagged))
    atomic_write(paths['privacy_audit.csv'], summary_csv(summaries, chance, names))
    atomic_write(paths['privacy_faces.csv'], faces_csv(results))
    plot_audit(results, names, embedder.threshold, chance[1], paths['privacy_audit.png'])
    info = dict(embedder=embedder.name, threshold=embedder.threshold,
                min_face_size=embedder.min_face_size, faces=len(audit.faces),
                too_small=len(audit.too_small), gallery_size=gallery.size, chance=chance,
                skipped=audit.skipped, memorisation=memorisation, rows=names,
                flagged=[[r.row, r.face.file_name, r.face.index] for r in flagged])
    atomic_write_json(paths['privacy_audit.json'], info)
    return dict(info, summaries=summaries, results=results, paths=paths)
