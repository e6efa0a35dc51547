"""Table 1 scores every image of the annotation file (as COCO does), or only the person images."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from rdid_mm.deid import build_deid_dataset
from rdid_mm.layout import DeidLayout
from rdid_mm.reports import make_table1
from rdid_mm.reports.table_rows import RowEvaluator, RowSpec
from rdid_mm.utils.io import read_rgb

from tests.evaluation.detector_double import SMALL_DETECTOR, GroundTruthKeypointRCNN

# scored first: COCOeval sorts tied scores stably, so false positives of a later image would
# come after every true positive and leave AP at 1
EMPTY_ID = 1


@pytest.fixture(scope='module')
def with_person_free_image(tmp_path_factory, sample_wholebody_ann_file, sample_img_dir):
    """The sample plus a fifth image without any person annotation (a copy of 785's pixels, so
    the ground-truth double "detects" 785's people there: false positives)."""
    root = tmp_path_factory.mktemp('protocol')
    img_dir = root / 'images'
    shutil.copytree(sample_img_dir, img_dir)
    shutil.copy(img_dir / '000000000785.jpg', img_dir / 'empty.jpg')
    coco = json.load(open(sample_wholebody_ann_file))
    coco['images'].append(dict(id=EMPTY_ID, file_name='empty.jpg', width=640, height=425))
    (root / 'coco.json').write_text(json.dumps(coco))
    out_dir = str(root / 'deid')
    summary = build_deid_dataset(ann_file=str(root / 'coco.json'), img_dir=str(img_dir),
                                 out_dir=out_dir, strengths=(8, ), face_sources=('wholebody', ),
                                 wholebody_ann=sample_wholebody_ann_file, progress=False)
    return out_dir, summary, str(img_dir)


def test_builder_carries_the_person_free_image_through(with_person_free_image):
    out_dir, summary, img_dir = with_person_free_image
    layout = DeidLayout(out_dir)
    assert [im['id'] for im in layout.images()][0] == EMPTY_ID and len(layout.images()) == 5
    assert summary['images']['done'] == 5 and summary['images']['without_person_annotation'] == 1
    assert layout.faces()['empty.jpg'] == []
    np.testing.assert_array_equal(read_rgb(layout.mosaic('empty.jpg', 8)),
                                  read_rgb(osp.join(img_dir, 'empty.jpg')))


def test_person_images_only_build_leaves_it_out(with_person_free_image, tmp_path):
    _, _, img_dir = with_person_free_image
    ann_file = osp.join(osp.dirname(img_dir), 'coco.json')
    build_deid_dataset(ann_file=ann_file, img_dir=img_dir, out_dir=str(tmp_path / 'o'),
                       strengths=(8, ), face_sources=('coco_keypoints', ), progress=False,
                       person_images_only=True)
    assert len(DeidLayout(str(tmp_path / 'o')).images()) == 4


def test_false_positives_on_the_person_free_image_lower_the_ap(with_person_free_image, tmp_path):
    out_dir, _, _ = with_person_free_image
    layout = DeidLayout(out_dir)
    double = GroundTruthKeypointRCNN(layout.ann_file, {  # the copy is taken for 785
        s['img_id']: {'gt': s['gt_path']} for s in layout.samples() if s['img_id'] != EMPTY_ID})
    results = {}
    for person_only in (False, True):
        evaluator = RowEvaluator(layout, SMALL_DETECTOR, str(tmp_path / f'c{person_only}'),
                                 device='cpu', person_images_only=person_only)
        evaluator._detector = double
        results[person_only] = evaluator.evaluate(RowSpec('GT', 'gt'), 20, 0)
    assert results[True].num_images == 4 and results[False].num_images == 5
    assert results[True].stats['bbox_AP'] == pytest.approx(1.0)
    assert results[False].stats['bbox_AP'] < 0.95  # 785's persons, found again where none are
    assert {seen[0] for seen in double.seen} == {785, 40083, 196141, 197388}


@pytest.mark.slow
def test_the_footer_says_which_images_and_how_many(with_person_free_image, tmp_path):
    out_dir, _, _ = with_person_free_image
    for person_only, expected in (
            (False, 'every image of'), (True, 'the 4 images with a person annotation')):
        paths = make_table1(out_dir, str(tmp_path / str(person_only)), strengths=[8],
                            detector=SMALL_DETECTOR, device='cpu', num_bootstrap=10,
                            person_images_only=person_only)
        markdown = open(paths['markdown']).read()
        assert expected in markdown
        if not person_only:
            assert ': 5 (4 with a person annotation, 1 without' in markdown
