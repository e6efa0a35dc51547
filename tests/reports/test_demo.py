"""The demo's face-model table on the de-identified sample: its numbers are the face models'
own, called directly on the same faces, trained-on and held-out faces apart."""
import pytest

from rdid_mm.layout import DeidLayout, restored_path

from tests.conftest import REPO_ROOT

TINY_RDID_GAN = f'{REPO_ROOT}/configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py'


@pytest.fixture(scope='module')
def restored(deid_sample, tmp_path_factory):
    """The sample at strength 8 restored by an (untrained) tiny RDID-GAN, region mode."""
    from rdid_mm.apis import init_model
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.restore.loop import restore_deid_folder
    out_dir = str(tmp_path_factory.mktemp('demo_restored') / 's8')
    restore_deid_folder(model_restorer(init_model(TINY_RDID_GAN)), deid_sample, 8, out_dir)
    return out_dir


@pytest.mark.slow
def test_face_model_table_equals_the_face_models_called_directly(deid_sample, restored):
    from rdid_mm.privacy import IdentityAudit, identity_top1
    from rdid_mm.privacy.audit_rows import Row
    from rdid_mm.privacy.face_models import centerface_recall, landmark_error
    from rdid_mm.reports.demo import face_model_table
    layout = DeidLayout.existing(deid_sample)
    names = sorted(name for name, boxes in layout.faces().items() if boxes)
    held_out = names[:1]
    rows, markdown = face_model_table(layout, 8, {name: restored for name in names}, held_out)
    assert [(r['row'], r['faces']) for r in rows] == [
        ('mosaic', 'trained'), ('restored', 'trained'), ('mosaic', 'held_out'),
        ('restored', 'held_out')]
    faces = layout.faces()
    audit = IdentityAudit(deid_sample)
    for row in rows:
        chosen = [n for n in names if (n in held_out) == (row['faces'] == 'held_out')]
        paths = {n: (layout.mosaic(n, 8) if row['row'] == 'mosaic' else
                     restored_path(restored, n)) for n in chosen}
        recall = centerface_recall(paths, faces)
        error = landmark_error(paths, {n: layout.gt(n) for n in chosen}, faces)
        top1 = identity_top1(audit, Row('direct', row['row'], paths.get, 8))
        assert row['centerface_recall'] == pytest.approx(recall['centerface_recall'], nan_ok=True)
        assert row['centerface_faces'] == recall['centerface_faces'] == sum(
            len(faces[n]) for n in chosen)
        assert row['landmark_error'] == pytest.approx(error['landmark_error'], nan_ok=True)
        assert row['identity_top1'] == pytest.approx(top1['identity_top1'], nan_ok=True)
        assert row['identity_faces'] == top1['identity_faces']
    lines = markdown.splitlines()
    assert lines[0].startswith('| row | faces | n | CenterFace recall | landmark err |')
    assert len(lines) == 2 + len(rows) and lines[2].startswith('| mosaic s8 | trained on |')
    print(markdown)
