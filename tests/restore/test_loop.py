"""restore_input on folders, images, builder outputs and COCO jsons: pixels, metadata, counts."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from rdid_mm.restore import locate_mosaics
from rdid_mm.restore.items import RestoreInputError
from rdid_mm.restore.loop import restore_deid_folder, restore_input, summary_text
from rdid_mm.restore.media import SYNTHETIC_TAG, TAG_KEY, read_tag

from .conftest import read_rgb
from tests.helpers import changed_outside


def invert(crops):
    return [255 - c for c in crops]


@pytest.fixture
def third_party_folder(tmp_path, deid_sample):
    """Builder mosaics re-saved as a provider would: JPEG q95 in nested folders, no faces.json."""
    folder = tmp_path / 'provider'
    for i, name in enumerate(sorted(os.listdir(osp.join(deid_sample, 'mosaic', 's8')))):
        target = folder / ('cam1' if i % 2 else 'cam2/day1') / name.replace('.png', '.jpg')
        target.parent.mkdir(parents=True, exist_ok=True)
        image = cv2.imread(osp.join(deid_sample, 'mosaic', 's8', name))
        cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return folder


def test_folder_restore_changes_only_located_boxes(third_party_folder, tmp_path):
    out = tmp_path / 'out'
    summary = restore_input(invert, str(third_party_folder), str(out))
    inputs = sorted(p for p in third_party_folder.rglob('*.jpg'))
    assert summary['restored'] + summary['copied_unchanged'] == len(inputs) == 4
    assert summary['failed'] == 0 and summary['boxes_source'] == 'localiser'
    assert summary['restored'] == 3  # 000000196141 has no valid face box
    for path in inputs:
        rel = path.relative_to(third_party_folder).with_suffix('.png')
        result = read_rgb(str(out / rel))
        source = read_rgb(str(path))
        boxes = [m.to_list()[:4] for m in locate_mosaics(source)]
        assert changed_outside(source, result, boxes) == 0
        for x, y, w, h in boxes:
            np.testing.assert_array_equal(result[y:y + h, x:x + w], 255 - source[y:y + h, x:x + w])
        assert read_tag(str(out / rel)) == SYNTHETIC_TAG
    with open(out / 'summary.json') as f:
        assert json.load(f)['restored'] == 3


def _write_jpeg_with_exif_gps(path, rgb):
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x010F] = 'CCTV Maker'          # Make
    exif[0x0110] = 'Camera 7 lobby'      # Model
    exif[0x9003] = '2024:05:01 10:11:12'  # DateTimeOriginal (in the Exif IFD below)
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = 'N', (52.0, 31.0, 12.0)
    gps[3], gps[4] = 'E', (13.0, 24.0, 36.0)
    image.save(path, quality=95, exif=exif.tobytes(),
               comment=b'shot at Alexanderplatz')


def test_exif_gps_and_input_path_do_not_reach_the_output(tmp_path, deid_sample):
    folder = tmp_path / 'secret_location_berlin'
    folder.mkdir()
    source = read_rgb(osp.join(deid_sample, 'mosaic', 's16', '000000040083.png'))
    _write_jpeg_with_exif_gps(str(folder / 'lobby.jpg'), source)
    with Image.open(folder / 'lobby.jpg') as im:  # the input really carries them
        assert im.getexif().get_ifd(0x8825)[1] == 'N' and im.getexif()[0x010F] == 'CCTV Maker'
    out = tmp_path / 'out'
    summary = restore_input(invert, str(folder), str(out))
    assert summary['restored'] == 1
    produced = [p for p in out.rglob('*') if p.is_file()]
    for path in produced:
        data = path.read_bytes()
        for secret in (b'CCTV Maker', b'Camera 7', b'Alexanderplatz', b'secret_location',
                       str(tmp_path).encode(), b'2024:05:01'):
            assert secret not in data, (path, secret)
    with Image.open(out / 'lobby.png') as im:
        assert not im.getexif() and 'exif' not in im.info and 'xmp' not in im.info
        assert 'icc_profile' not in im.info
        assert im.text == {TAG_KEY: SYNTHETIC_TAG}


def test_builder_output_uses_faces_json(deid_sample, tmp_path):
    out = tmp_path / 'out'
    summary = restore_input(invert, osp.join(deid_sample, 'mosaic', 's8'), str(out))
    assert summary['boxes_source'] == 'builder'
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    for name, boxes in faces.items():
        stem = osp.splitext(name)[0]
        source = read_rgb(osp.join(deid_sample, 'mosaic', 's8', stem + '.png'))
        result = read_rgb(str(out / (stem + '.png')))
        assert changed_outside(source, result, boxes) == 0
        assert (result != source).any() == bool(boxes)
    with pytest.raises(RestoreInputError, match='mosaics'):
        restore_input(invert, deid_sample, str(tmp_path / 'out2'))  # s8 and s16: which one?


@pytest.mark.parametrize('options, message', [
    (dict(learned_localiser=False), "--lattice-only sets the mosaic localiser; {} is a builder "
     'output: its faces.json gives the boxes'),
    (dict(network_every=3, whole_image=True), '--network-every sets the mosaic localiser; in '
     'whole-image mode no boxes are looked for'),
])
def test_localiser_options_are_refused_where_the_localiser_gives_no_boxes(
        deid_sample, tmp_path, options, message):
    """``--lattice-only`` / ``--network-every`` on a builder output (its faces.json's boxes) or
    in whole-image mode were silently ignored: now refused before anything is written."""
    folder = osp.join(deid_sample, 'mosaic', 's8')
    out = tmp_path / 'out'
    with pytest.raises(RestoreInputError) as err:
        restore_input(invert, folder, str(out), **options)
    assert str(err.value) == message.format(folder)
    assert not out.exists()


def test_boxes_file_that_does_not_match(deid_sample, tmp_path):
    folder = osp.join(deid_sample, 'mosaic', 's8')
    boxes = {'000000000785.png': [[350, 60, 40, 40, 8, 1.0]],
             '000000040083.png': [[900, 900, 10, 10, 8, 1.0]],   # outside the 500x333 image
             'not_there.png': [[0, 0, 10, 10, 8, 1.0]]}
    boxes_file = tmp_path / 'boxes.json'
    boxes_file.write_text(json.dumps(boxes))
    summary = restore_input(invert, folder, str(tmp_path / 'out'), boxes_file=str(boxes_file))
    assert summary['boxes_unmatched'] == 1
    assert summary['restored'] == 1 and summary['copied_unchanged'] == 3
    kinds = sorted(m['kind'] for m in summary['messages'])
    assert kinds == ['boxes_outside', 'boxes_unmatched']
    unchanged = read_rgb(str(tmp_path / 'out' / '000000040083.png'))
    np.testing.assert_array_equal(unchanged, read_rgb(osp.join(folder, '000000040083.png')))
    bad = tmp_path / 'bad.json'
    bad.write_text('[1, 2')
    with pytest.raises(RestoreInputError, match='bad.json'):
        restore_input(invert, folder, str(tmp_path / 'out3'), boxes_file=str(bad))


def test_unreadable_and_truncated_images_are_counted_and_the_run_goes_on(deid_sample, tmp_path):
    folder = tmp_path / 'in'
    shutil.copytree(osp.join(deid_sample, 'mosaic', 's16'), folder)
    data = (folder / '000000000785.png').read_bytes()
    (folder / '000000000785.png').write_bytes(data[:len(data) // 2])  # truncated
    (folder / 'notes.jpg').write_bytes(b'this is not an image')
    summary = restore_input(invert, str(folder), str(tmp_path / 'out'))
    assert summary['failed'] == 2
    assert summary['restored'] + summary['copied_unchanged'] == 3
    failed = {m['file']: m['message'] for m in summary['messages'] if m['kind'] == 'failed'}
    assert set(failed) == {'000000000785.png', 'notes.jpg'}
    assert failed['000000000785.png'].startswith('truncated')
    assert str(tmp_path) not in json.dumps(summary)


def test_no_overwrite_without_the_flag_and_resume(deid_sample, tmp_path):
    folder = osp.join(deid_sample, 'mosaic', 's8')
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('mine')
    with pytest.raises(RestoreInputError, match='--overwrite'):
        restore_input(invert, folder, str(foreign))
    assert (foreign / 'keep.txt').read_text() == 'mine'

    calls = []

    def dies_on_second_batch(crops):
        calls.append(len(crops))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return invert(crops)

    out = tmp_path / 'out'
    with pytest.raises(KeyboardInterrupt):
        restore_input(dies_on_second_batch, folder, str(out), images_per_batch=2)
    assert len(list(out.glob('*.png'))) == 2
    summary = restore_input(invert, folder, str(out), images_per_batch=2)
    assert summary['kept'] == 2 and summary['restored'] + summary['copied_unchanged'] == 2
    reference = tmp_path / 'reference'
    restore_input(invert, folder, str(reference), images_per_batch=2)
    for name in os.listdir(reference):
        if name.endswith('.png'):
            assert (out / name).read_bytes() == (reference / name).read_bytes()
    with pytest.raises(RestoreInputError, match='other settings'):
        restore_input(invert, folder, str(out), whole_image=True)
    summary = restore_input(invert, folder, str(out), whole_image=True, overwrite=True)
    assert summary['restored'] == 4 and summary['kept'] == 0


def test_ann_file_gives_a_dataset(deid_sample, tmp_path, sample_ann_file):
    from pycocotools.coco import COCO
    with open(sample_ann_file) as f:
        coco = json.load(f)
    # the builder's mosaics under a COCO layout: val2017/<file_name>, PNG pixels renamed .jpg
    img_dir = tmp_path / 'coco'
    for img in coco['images']:
        target = img_dir / img['file_name']
        target.parent.mkdir(parents=True, exist_ok=True)
        stem = osp.splitext(osp.basename(img['file_name']))[0]
        shutil.copyfile(osp.join(deid_sample, 'mosaic', 's8', stem + '.png'), target)
    out = tmp_path / 'restored'
    summary = restore_input(invert, str(img_dir), str(out), ann_file=sample_ann_file)
    assert summary['restored'] + summary['copied_unchanged'] + summary['failed'] == len(
        coco['images'])
    assert summary['restored'] == 3 and summary['copied_unchanged'] == 1
    copy = out / 'annotations' / osp.basename(sample_ann_file)
    restored = COCO(str(copy))
    assert len(restored.getAnnIds()) == len(coco['annotations'])
    for img in restored.dataset['images']:
        assert img['file_name'].endswith('.png')
        pixels = read_rgb(str(out / img['file_name']))
        assert pixels.shape[:2] == (img['height'], img['width'])


def test_two_inputs_with_one_output_name(tmp_path, deid_sample):
    folder = tmp_path / 'in'
    folder.mkdir()
    source = osp.join(deid_sample, 'mosaic', 's8', '000000040083.png')
    shutil.copyfile(source, folder / 'a.png')
    cv2.imwrite(str(folder / 'a.jpg'), cv2.imread(source))
    summary = restore_input(invert, str(folder), str(tmp_path / 'out'))
    assert summary['failed'] == 1 and summary['restored'] == 1
    assert [m['file'] for m in summary['messages'] if m['kind'] == 'failed'] == ['a.png']


class Recorder:
    """A :class:`RestoreHook` that keeps what the run told it."""

    def __init__(self):
        self.total, self.items, self.summary = None, [], None

    def before_run(self, total):
        self.total = total

    def after_item(self, name, status, faces=0):
        self.items.append((name, status, faces))

    def after_run(self, summary):
        self.summary = summary


def test_hooks_hear_every_item_once_with_its_status_and_faces(deid_sample, tmp_path):
    folder = tmp_path / 'in'
    shutil.copytree(osp.join(deid_sample, 'mosaic', 's8'), folder)
    (folder / 'notes.jpg').write_bytes(b'this is not an image')
    shutil.copy(osp.join(deid_sample, 'faces.json'), folder / 'faces.json')
    hook = Recorder()
    summary = restore_input(invert, str(folder), str(tmp_path / 'out'), images_per_batch=2,
                            hooks=[hook])
    assert hook.total == 5 and hook.summary is summary
    assert sorted(name for name, _, _ in hook.items) == sorted(
        ['notes.jpg'] + os.listdir(osp.join(deid_sample, 'mosaic', 's8')))
    statuses = [status for _, status, _ in hook.items]
    for status in ('restored', 'copied_unchanged', 'failed'):
        assert statuses.count(status) == summary[status], status
    assert sum(faces for _, _, faces in hook.items) == summary['boxes'] > 0
    again = Recorder()
    restore_input(invert, str(folder), str(tmp_path / 'out'), hooks=[again])
    assert [status for _, status, _ in again.items].count('kept') == 4


def test_the_summary_names_images_faces_skipped_and_time():
    summary = dict(restored=3, copied_unchanged=1, failed=2, kept=5, redone=1, videos=1,
                   boxes=4, boxes_source='localiser', video_results={'a.mp4': dict(boxes=7)})
    lines = summary_text(summary, 'OUT', 2.0).splitlines()
    assert lines == ['restored 2 images, 1 videos and copied 1 without a box unchanged into OUT '
                     'in 2.0 s, 3.00 items/s',
                     '  11 faces restored (7 in video frames); boxes from localiser',
                     '  skipped: 5 already there, 2 failed; 1 earlier outputs redone']


def test_a_builder_output_is_never_restored_into_itself_or_its_mosaics(deid_sample, tmp_path):
    """``--deid-dir D``: the output may not be D or lie inside D/mosaic; D/restored/s8 is fine."""
    for out, message in ((deid_sample, 'must not be the dataset folder'),
                         (osp.join(deid_sample, 'mosaic', 's8', 'x'), 'must not be the input')):
        with pytest.raises(RestoreInputError, match=message):
            restore_deid_folder(invert, deid_sample, 8, out)
    copy = tmp_path / 'deid'
    shutil.copytree(deid_sample, copy)
    summary = restore_deid_folder(invert, str(copy), 8, str(copy / 'restored' / 's8'))
    assert summary['restored'] == 3 and summary['copied_unchanged'] == 1


@pytest.mark.slow
def test_batched_run_writes_what_one_image_at_a_time_writes(deid_sample, tmp_path):
    """16 and 4 images per batch, decoding ahead and writing behind in threads, two restorer
    threads: the same PNGs (float rounding at most), counts and record order as one image per
    batch with everything in one thread (the real tiny model: crops of several sizes share
    batches; an unreadable image among them is counted and the run goes on)."""
    from rdid_mm.apis import init_model
    from rdid_mm.models.restorers import model_restorer

    from tests.tools.test_train_test_tools import TINY_CONFIG

    folder = tmp_path / 'many'
    folder.mkdir()
    boxes = {}
    faces = json.load(open(osp.join(deid_sample, 'faces.json')))
    for copy in range(3):
        for name, image_boxes in faces.items():
            stem = osp.splitext(name)[0]
            shutil.copy(osp.join(deid_sample, 'mosaic', 's8', stem + '.png'),
                        folder / f'{stem}_{copy}.png')
            boxes[f'{stem}_{copy}.png'] = [b[:4] for b in image_boxes]
    (folder / '000000100000_broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\x00' * 64)
    boxes_file = tmp_path / 'boxes.json'
    boxes_file.write_text(json.dumps(boxes))
    model = init_model(TINY_CONFIG)
    runs = {}
    for label, options, workers in (('single', dict(images_per_batch=1, background_io=False), 1),
                                    ('batched4', dict(images_per_batch=4), 2),
                                    ('batched', dict(), 2)):
        out = tmp_path / label
        summary = restore_input(model_restorer(model, workers=workers), str(folder), str(out),
                                boxes_file=str(boxes_file), **options)
        records = [json.loads(line)['name'] for line in
                   open(next(p for p in out.rglob('*.jsonl')))]
        runs[label] = (out, summary, records)
    (single, s1, r1) = runs['single']
    assert r1 == sorted(boxes) and s1['failed'] == 1
    assert s1['restored'] == 3 * sum(bool(b) for b in faces.values()) > 0
    for label in ('batched4', 'batched'):  # 3 batches and one, a broken image among them
        out, summary, records = runs[label]
        assert records == r1
        for key in ('restored', 'copied_unchanged', 'failed', 'boxes'):
            assert summary[key] == s1[key]
        for name in boxes:
            a, b = read_rgb(str(single / name)), read_rgb(str(out / name))
            assert np.abs(a.astype(int) - b).max() <= 1


def test_images_resume_whatever_temporal_says(deid_sample, tmp_path):
    """--temporal changes only how videos are restored: an image folder's run resumes under
    another value (it is not a setting of an image run)."""
    folder = osp.join(deid_sample, 'mosaic', 's8')
    restore_input(invert, folder, str(tmp_path / 'out'), temporal='frame')
    summary = restore_input(invert, folder, str(tmp_path / 'out'))
    assert summary['kept'] == 4 and summary['restored'] == 0
