"""The one layout of a de-identified dataset: paths, records, names that cannot get outputs."""
import json
import os.path as osp

from rdid_mm.deid.settings import BuildSettings
from rdid_mm.layout import DeidLayout, output_name_problems, restored_path


def test_paths():
    layout = DeidLayout('/out', '.png')
    assert layout.gt('sub/a.jpg') == '/out/gt/sub/a.jpg'
    assert layout.mosaic('sub/a.jpg', 8) == '/out/mosaic/s8/sub/a.png'
    assert DeidLayout('/out', '.jpg').mosaic('a.jpg', 16) == '/out/mosaic/s16/a.jpg'
    assert layout.annotations_file == '/out/annotations/person_keypoints.json'
    assert restored_path('/r', 'sub/a.jpg') == '/r/sub/a.png'
    # records are named by a hash, so any file_name (even '../x') stays inside the state folder
    record = layout.record('../x.jpg')
    assert record.startswith('/out/.deid_state/records/') and '..' not in record
    assert layout.record('a.jpg') != layout.record('b.jpg')
    assert osp.basename(osp.dirname(record)) == osp.basename(record)[:2]


def test_mosaic_extension_comes_from_the_build_settings(tmp_path):
    (tmp_path / 'summary.json').write_text(json.dumps({'settings': {'jpeg_quality': 90}}))
    assert DeidLayout(str(tmp_path)).mosaic('x/y.png', 8) == str(tmp_path / 'mosaic/s8/x/y.jpg')
    (tmp_path / 'summary.json').write_text(json.dumps({'settings': {'jpeg_quality': None}}))
    assert DeidLayout(str(tmp_path)).mosaic('x/y.jpg', 8) == str(tmp_path / 'mosaic/s8/x/y.png')


def test_settings_json_round_trip():
    settings = BuildSettings(strengths=(8, 16), face_sources=('centerface', dict(type='dsfd')))
    data = settings.to_json()
    assert data['strengths'] == [8, 16] and data['face_sources'] == ['centerface',
                                                                     dict(type='dsfd')]
    assert data['margin'] == 0.1 and data['input_kind'] == 'coco'
    assert data['person_images_only'] is False


def test_output_name_problems():
    problems = output_name_problems(['a.jpg', 'a.png', 'sub/a.png', '../b.jpg', '/abs.jpg',
                                     'c/../../d.jpg', 'e.jpg'])
    assert problems == {
        'a.png': ('name_collision', 'its mosaic would overwrite that of a.jpg'),
        '../b.jpg': ('unsafe_file_name', 'absolute or outside the image folder'),
        '/abs.jpg': ('unsafe_file_name', 'absolute or outside the image folder'),
        'c/../../d.jpg': ('unsafe_file_name', 'absolute or outside the image folder')}
