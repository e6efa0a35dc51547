"""Tasks from a COCO json (person subset, WholeBody face boxes attached) and from a folder."""
import json

import pytest

from rdid_mm.deid.image_tasks import CocoPersonSource, FolderSource


def test_coco_person_source(sample_ann_file, sample_img_dir, sample_wholebody_ann_file):
    source = CocoPersonSource(sample_ann_file, sample_img_dir)
    assert len(source) == 4 and not source.has_face_boxes
    tasks = list(source)
    assert [t['file_name'] for t in tasks] == sorted(t['file_name'] for t in tasks)
    assert sum(len(t['annotations']) for t in tasks) == 14
    assert tasks[0]['path'] == f'{sample_img_dir}/{tasks[0]["file_name"]}'
    assert tasks[0]['width'] == 640 and tasks[0]['height'] == 425

    with_faces = CocoPersonSource(sample_ann_file, sample_img_dir, sample_wholebody_ann_file)
    assert with_faces.has_face_boxes
    valid = [a for t in with_faces for a in t['annotations'] if a.get('face_valid')]
    assert len(valid) == 4 and all(len(a['face_box']) == 4 for a in valid)
    subset = with_faces.person_subset([785])
    assert [img['id'] for img in subset['images']] == [785]
    assert {a['image_id'] for a in subset['annotations']} == {785}
    assert [c['name'] for c in subset['categories']] == ['person']


def test_images_without_persons_are_kept_unless_person_images_only(tmp_path, sample_ann_file,
                                                                    sample_img_dir):
    coco = json.load(open(sample_ann_file))
    coco['images'].append(dict(id=1, file_name='empty.jpg', width=5, height=5))
    coco['annotations'].append(dict(id=99, image_id=785, category_id=2, bbox=[0, 0, 1, 1]))
    path = tmp_path / 'coco.json'
    path.write_text(json.dumps(coco))
    source = CocoPersonSource(str(path), sample_img_dir)
    assert len(source) == 5 and source.images_without_person == 1
    assert [t['annotations'] for t in source if t['file_name'] == 'empty.jpg'] == [[]]
    assert all(a['id'] != 99 for t in source for a in t['annotations'])
    assert [im['id'] for im in source.person_subset([1, 785])['images']] == [785, 1]
    persons = CocoPersonSource(str(path), sample_img_dir, person_images_only=True)
    assert len(persons) == 4 and persons.images_without_person == 1


def test_bad_annotation_files(tmp_path, sample_img_dir):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        CocoPersonSource(str(tmp_path / 'missing.json'), sample_img_dir)
    broken = tmp_path / 'broken.json'
    broken.write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json: not valid json'):
        CocoPersonSource(str(broken), sample_img_dir)
    other = tmp_path / 'other.json'
    other.write_text('{"images": []}')
    with pytest.raises(ValueError, match='other.json: not a COCO annotation file'):
        CocoPersonSource(str(other), sample_img_dir)
    twice = tmp_path / 'twice.json'
    twice.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.jpg'), dict(id=2, file_name='a.jpg')],
        annotations=[dict(id=1, image_id=1, category_id=1),
                     dict(id=2, image_id=2, category_id=1)])))
    with pytest.raises(ValueError, match='share a file_name'):
        CocoPersonSource(str(twice), sample_img_dir)


def test_folder_source_lists_images_recursively(tmp_path):
    for name in ('b.jpg', 'a.PNG', 'sub/c.jpeg', 'notes.txt', '.hidden.jpg'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b'x')
    source = FolderSource(str(tmp_path))
    assert source.file_names == ['a.PNG', 'b.jpg', 'sub/c.jpeg']
    assert [t['annotations'] for t in source] == [None] * 3
    with pytest.raises(FileNotFoundError):
        FolderSource(str(tmp_path / 'absent'))

