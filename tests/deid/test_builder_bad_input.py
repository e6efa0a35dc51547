"""Bad input never stops the builder: each case is logged with the file name and counted."""
import json
import logging
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.logging import MMLogger
from PIL import Image

from rdid_mm.deid import build_deid_dataset

from tests.deid.reference import pixelate_reference
from tests.deid.test_builder import check_mosaics, read_rgb, tree_digest


def _person(ann_id, image_id, face_box=None, keypoints=None):
    ann = dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=0, bbox=[0, 0, 10, 10],
               area=100, num_keypoints=0, keypoints=keypoints or [0] * 51)
    if face_box is not None:
        ann.update(face_box=face_box, face_valid=True)
    return ann


@pytest.fixture(scope='module')
def bad_dataset(tmp_path_factory, sample_wholebody_ann_file, sample_img_dir):
    """The 4 sample images plus one file per kind of trouble, in a COCO-WholeBody json."""
    root = tmp_path_factory.mktemp('bad_input')
    img_dir = root / 'images'
    shutil.copytree(sample_img_dir, img_dir)
    coco = json.load(open(sample_wholebody_ann_file))
    data = (img_dir / '000000000785.jpg').read_bytes()
    (img_dir / 'unreadable.jpg').write_text('this is not a JPEG')
    (img_dir / 'truncated.jpg').write_bytes(data[:len(data) // 3])
    shutil.copy(img_dir / '000000000785.jpg', img_dir / 'wrong_size.jpg')
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(img_dir / 'noface.png')
    Image.fromarray(rng.integers(0, 256, (40, 60), dtype=np.uint8)).save(img_dir / 'boxes.png')
    extra = [('missing.jpg', 64, 48), ('unreadable.jpg', 64, 48), ('truncated.jpg', 640, 425),
             ('wrong_size.jpg', 600, 400), ('noface.png', 64, 48), ('boxes.png', 60, 40)]
    for image_id, (name, width, height) in enumerate(extra, start=1):
        coco['images'].append(dict(id=image_id, file_name=name, width=width, height=height))
    coco['annotations'] += [
        _person(9001, 1, face_box=[1, 1, 10, 10]),
        _person(9002, 2, face_box=[1, 1, 10, 10]),
        _person(9003, 3, face_box=[1, 1, 10, 10]),
        _person(9004, 4, face_box=[1, 1, 10, 10]),
        _person(9005, 5),                                  # a person without a face box
        _person(9006, 6, face_box=[10, 10, 0, 12]),        # empty box
        _person(9007, 6, face_box=[500, 10, 20, 20]),      # outside the image
        _person(9008, 6, face_box=[40.5, 30.2, 5, 5]),     # smaller than one block
        _person(9009, 6, face_box=[-8, -6, 20, 16]),       # partly outside: clipped
    ]
    ann_file = root / 'coco_wholebody.json'
    ann_file.write_text(json.dumps(coco))
    return str(ann_file), str(img_dir)


@pytest.fixture(scope='module')
def bad_build(bad_dataset, tmp_path_factory):
    ann_file, img_dir = bad_dataset
    before = tree_digest(img_dir)
    out_dir = str(tmp_path_factory.mktemp('bad_out') / 'out')
    summary = build_deid_dataset(ann_file=ann_file, img_dir=img_dir, out_dir=out_dir,
                                 strengths=(8, 16), face_sources=('wholebody', ), margin=0.0)
    assert tree_digest(img_dir) == before, 'inputs are never modified'
    return summary, out_dir, img_dir


def test_bad_files_are_skipped_with_their_reason(bad_build):
    summary, out_dir, _ = bad_build
    assert summary['images']['listed'] == 10
    assert summary['images']['done'] == 6 and summary['images']['skipped'] == 4
    assert summary['skipped']['by_reason'] == dict(missing=1, size_mismatch=1, truncated=1,
                                                   unreadable=1)
    by_name = {s['file_name']: s for s in summary['skipped']['files']}
    assert by_name['missing.jpg']['reason'] == 'missing'
    assert by_name['unreadable.jpg']['reason'] == 'unreadable'
    assert by_name['truncated.jpg']['reason'] == 'truncated'
    assert 'truncated' in by_name['truncated.jpg']['detail']
    assert '640x425' in by_name['wrong_size.jpg']['detail']
    for name in by_name:
        assert not osp.exists(osp.join(out_dir, 'gt', name))
        assert not osp.exists(osp.join(out_dir, 'mosaic', 's8', osp.splitext(name)[0] + '.png'))
    with open(osp.join(out_dir, 'faces.json')) as f:
        assert set(json.load(f)) == {'000000000785.jpg', '000000040083.jpg', '000000196141.jpg',
                                     '000000197388.jpg', 'noface.png', 'boxes.png'}
    with open(osp.join(out_dir, 'annotations', 'person_keypoints.json')) as f:
        subset = json.load(f)
    assert {i['file_name'] for i in subset['images']} == set(json.load(
        open(osp.join(out_dir, 'faces.json'))))


def test_bad_cases_are_logged_with_the_file_name(bad_dataset, tmp_path, capsys):
    ann_file, img_dir = bad_dataset
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        build_deid_dataset(ann_file=ann_file, img_dir=img_dir, out_dir=str(tmp_path / 'o'),
                           strengths=(8, ), face_sources=('wholebody', ), margin=0.0,
                           publish=True)
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(record.getMessage() for record in records)
    for line in ('skipped missing.jpg: missing', 'skipped unreadable.jpg: unreadable',
                 'skipped truncated.jpg: truncated', 'skipped wrong_size.jpg: size_mismatch',
                 'boxes.png: dropped 1 empty and 1 out-of-image face box(es)',
                 'noface.png: no face found', '4 skipped', 'images/s'):
        assert line in text, line
    assert '10/10' in capsys.readouterr().out, 'the progress bar counts images'


def test_image_without_face_equals_original(bad_build):
    summary, out_dir, img_dir = bad_build
    # noface.png, and a sample image whose persons have no valid WholeBody face box
    assert summary['images']['without_face'] == 2
    original = read_rgb(osp.join(img_dir, 'noface.png'))
    for strength in (8, 16):
        np.testing.assert_array_equal(
            read_rgb(osp.join(out_dir, 'mosaic', f's{strength}', 'noface.png')), original)


def test_empty_outside_small_and_clipped_boxes(bad_build):
    summary, out_dir, img_dir = bad_build
    assert summary['faces']['dropped_empty'] == 1
    assert summary['faces']['dropped_outside_image'] == 1
    with open(osp.join(out_dir, 'faces.json')) as f:
        boxes = json.load(f)['boxes.png']
    assert sorted(b[:4] for b in boxes) == [[0, 0, 12, 10], [40, 30, 6, 6]]
    # the 6x6 face is smaller than one block at both strengths (it becomes one block), the
    # 12x10 one at strength 16
    assert summary['faces']['smaller_than_block'] == {'8': 1, '16': 2}
    original = read_rgb(osp.join(img_dir, 'boxes.png'))
    assert summary['images']['converted_to_rgb'] == {'L': 1}
    for strength in (8, 16):
        mosaic = read_rgb(osp.join(out_dir, 'mosaic', f's{strength}', 'boxes.png'))
        block = mosaic[30:36, 40:46]
        assert (block == block[0, 0]).all()
        np.testing.assert_array_equal(block, pixelate_reference(original[30:36, 40:46], strength))
    check_mosaics(out_dir, img_dir, {'boxes.png': boxes}, (8, 16))


@pytest.mark.parametrize('where', ['same', 'inside'])
def test_output_in_the_input_folder_is_refused(bad_dataset, where):
    ann_file, img_dir = bad_dataset
    out_dir = img_dir if where == 'same' else osp.join(img_dir, 'deid')
    before = tree_digest(img_dir)
    with pytest.raises(ValueError, match='lies inside it'):
        build_deid_dataset(ann_file=ann_file, img_dir=img_dir + os.sep, out_dir=out_dir,
                           face_sources=('wholebody', ))
    assert tree_digest(img_dir) == before and not osp.exists(osp.join(img_dir, 'deid'))


def test_argument_errors(bad_dataset, tmp_path, sample_ann_file):
    ann_file, img_dir = bad_dataset
    out_dir = str(tmp_path / 'out')
    for kwargs, message in [
        (dict(strengths=(0, )), 'integers >= 1'),
        (dict(jpeg_quality=0), 'jpeg_quality'),
        (dict(margin=-1), 'margin'),
        (dict(face_sources=('wholebody', ), ann_file=sample_ann_file), 'wholebody_ann'),
        (dict(face_sources=('coco_keypoints', ), ann_file=None), 'give ann_file'),
    ]:
        args = dict(ann_file=ann_file, img_dir=img_dir, out_dir=out_dir,
                    face_sources=('wholebody', ))
        args.update(kwargs)
        with pytest.raises(ValueError, match=message):
            build_deid_dataset(**args)
    with pytest.raises(ValueError, match='either img_dir'):
        build_deid_dataset(ann_file=ann_file, out_dir=out_dir)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build_deid_dataset(img_dir=str(tmp_path / 'nowhere'), out_dir=out_dir)
    assert not osp.exists(out_dir), 'refused arguments leave no output folder behind'


def test_unsafe_and_colliding_file_names_are_skipped(tmp_path):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    for name in ('x.png', 'x.jpg', 'y.png'):
        Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(img_dir / name)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / 'outside.png')
    coco = dict(images=[dict(id=i, file_name=n, width=8, height=8) for i, n in enumerate(
        ['x.jpg', 'x.png', '../outside.png', 'y.png'])], categories=[dict(id=1, name='person')],
        annotations=[_person(10 + i, i, face_box=[1, 1, 3, 3]) for i in range(4)])
    ann_file = tmp_path / 'coco.json'
    ann_file.write_text(json.dumps(coco))
    out_dir = tmp_path / 'out'
    summary = build_deid_dataset(ann_file=str(ann_file), img_dir=str(img_dir),
                                 out_dir=str(out_dir), face_sources=('wholebody', ))
    reasons = {s['file_name']: s['reason'] for s in summary['skipped']['files']}
    assert reasons == {'x.png': 'name_collision', '../outside.png': 'unsafe_file_name'}
    assert sorted(os.listdir(out_dir / 'gt')) == ['x.jpg', 'y.png']
    assert sorted(os.listdir(out_dir / 'mosaic' / 's8')) == ['x.png', 'y.png']
    assert not (tmp_path / 'gt').exists() and not (out_dir.parent / 'outside.png.json').exists()
