"""Bad input across the tools, run as the README and docs/ show them, one bad input per case.

``CASES`` end in a one-line ``<tool>.py: error:`` naming the file and the problem, with no
traceback. ``HANDLED`` are images a tool must take or skip without stopping: valid but unusual
ones (grayscale, 16-bit, CMYK, alpha) are decoded the one way :func:`rdid_mm.utils.io.read_image`
does and processed (the test checks the pixels written), broken ones (empty, a decompression bomb,
missing) are skipped with the file and the reason in the log and counted in ``summary.json``.

The "Bad input: what each tool does" table of docs/robustness.md has one row per test id here.
"""
import json
import os
import os.path as osp
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from rdid_mm.utils.io import read_image

from tests.conftest import REPO_ROOT, SAMPLE_DIR
from tests.deid.reference import pixelate_reference
from tests.helpers import run_tool
from tests.tools.test_train_test_tools import TINY_CONFIG
from tests.utils.test_weights_file import write_malicious_checkpoint


@pytest.fixture(scope='module')
def tiny_weights(tmp_path_factory):
    """A real weights file of the tiny RDID-GAN (built from its config, untrained)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from rdid_mm.engine.checkpoint import unwrapped_state_dict
    from rdid_mm.registry import MODELS
    from rdid_mm.utils.weights_file import save_state_dict_file
    path = str(tmp_path_factory.mktemp('weights') / 'tiny.safetensors')
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    save_state_dict_file(unwrapped_state_dict(model), path)
    return path


def _truncated(tmp, weights, sample):
    path = osp.join(tmp, 'truncated.safetensors')
    with open(weights, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return path


def _corrupted(tmp, weights, sample):
    path = osp.join(tmp, 'corrupted.safetensors')
    with open(weights, 'rb') as f:
        data = bytearray(f.read())
    data[8:72] = b'\xff' * 64  # the json header
    with open(path, 'wb') as f:
        f.write(bytes(data))
    return path


def _wrong_architecture(tmp, weights, sample):
    import torch

    from rdid_mm.utils.weights_file import save_state_dict_file
    path = osp.join(tmp, 'resnet.safetensors')
    save_state_dict_file({'backbone.conv1.weight': torch.zeros(64, 3, 7, 7)}, path)
    return path


def _code_running_pickle(tmp, weights, sample):
    return write_malicious_checkpoint(osp.join(tmp, 'evil.pth'), osp.join(tmp, 'code_ran'))


def _test_tool(make_weights, expected):
    def case(tmp, weights, sample):
        path = make_weights(tmp, weights, sample)
        args = ['tools/test.py', TINY_CONFIG, path, '--work-dir', osp.join(tmp, 'w'),
                '--cfg-options', f'test_dataloader.dataset.data_root={sample}']
        return args, [path, expected]
    return case


def _unknown_type_config(tmp, weights, sample):
    path = osp.join(tmp, 'unknown_type.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{TINY_CONFIG!r}]\nmodel = dict(type='NoSuchRestorer', _delete_=True)\n")
    return (['tools/train.py', path, '--work-dir', osp.join(tmp, 'w')],
            ['NoSuchRestorer is not in the'])


def _wrong_schema_json(tmp, weights, sample):
    path = osp.join(tmp, 'not_coco.json')
    with open(path, 'w') as f:
        json.dump({'pictures': [], 'people': []}, f)
    return (['tools/build_deid_dataset.py', '--ann-file', path, '--img-dir',
             osp.join(sample, 'gt'), '--out', osp.join(tmp, 'out'), '--face-source',
             'coco_keypoints'], [path, 'not a COCO annotation file'])


def _missing(tool, *rest):
    def case(tmp, weights, sample):
        missing = osp.join(tmp, 'no_such_folder')
        args = [f'tools/{tool}.py', missing] + [a.format(tmp=tmp) for a in rest]
        return args, [missing, 'not found']
    return case


def _mismatched_ids_json(tmp, weights, sample):
    wholebody = osp.join(SAMPLE_DIR, 'annotations', 'test_coco_wholebody.json')
    with open(wholebody) as f:
        coco = json.load(f)
    for ann in coco['annotations']:
        ann['image_id'] += 1  # e.g. ids renumbered in "images" only
    path = osp.join(tmp, 'mismatched_ids.json')
    with open(path, 'w') as f:
        json.dump(coco, f)
    return (['tools/build_deid_dataset.py', '--ann-file', path, '--wholebody-ann', path,
             '--img-dir', osp.join(SAMPLE_DIR, 'val2017'), '--out', osp.join(tmp, 'out'),
             '--face-source', 'wholebody'], [path, 'not in its "images" list',
                                             'ids do not match'])


def _wholebody_ids_do_not_match(tmp, weights, sample):
    with open(osp.join(SAMPLE_DIR, 'annotations', 'test_coco_wholebody.json')) as f:
        coco = json.load(f)
    for ann in coco['annotations']:
        ann['id'] += 10 ** 9  # another split's WholeBody file
    path = osp.join(tmp, 'other_wholebody.json')
    with open(path, 'w') as f:
        json.dump(coco, f)
    return (['tools/build_deid_dataset.py', '--ann-file', osp.join(SAMPLE_DIR, 'annotations',
             'test_coco.json'), '--wholebody-ann', path, '--img-dir',
             osp.join(SAMPLE_DIR, 'val2017'), '--out', osp.join(tmp, 'out'), '--face-source',
             'wholebody'], [path, 'the two files do not match'])


CASES = {
    'test-truncated-weights': _test_tool(_truncated, 'not a readable safetensors file'),
    'test-corrupted-weights': _test_tool(_corrupted, 'not a readable safetensors file'),
    'test-wrong-architecture': _test_tool(_wrong_architecture, 'does not fit the model'),
    'test-code-running-pickle': _test_tool(_code_running_pickle, 'refused to unpickle'),
    'train-unknown-type': _unknown_type_config,
    'train-missing-config': lambda tmp, w, s: (
        ['tools/train.py', osp.join(tmp, 'nope.py')], [osp.join(tmp, 'nope.py'), 'not found']),
    'eval_table-missing-folder': _missing('eval_table', '--out-dir', '{tmp}/t'),
    'eval_table-bootstrap-0': lambda tmp, w, s: (
        ['tools/eval_table.py', s, '--out-dir', osp.join(tmp, 't'), '--bootstrap', '0',
         '--strengths', '8'], ['--bootstrap 0']),
    'restore-device-cuda-without-gpu': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--deid-dir', s, '--strength', '8', '--out',
         osp.join(tmp, 'r'), '--device', 'cuda'], ['--device cuda', 'no CUDA GPU']),
    'restore-output-inside-input': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--input', osp.join(s, 'mosaic', 's8'), '--out',
         osp.join(s, 'mosaic', 's8', 'restored')], [osp.join(s, 'mosaic', 's8'), 'inside it']),
    'build_deid_dataset-wrong-schema-json': _wrong_schema_json,
    'privacy_audit-missing-folder': _missing('privacy_audit', '--rows', 'mosaic:s8', '--out',
                                             '{tmp}/p'),
    'strength_sweep-missing-folder': _missing('strength_sweep', '--strengths', '8',
                                              '--out-dir', '{tmp}/s'),
    'qualitative_grid-missing-folder': _missing('qualitative_grid', '--strength', '8', '--out',
                                                '{tmp}/g.png'),
    'build_deid_dataset-mismatched-ids': _mismatched_ids_json,
    'build_deid_dataset-wholebody-ids-do-not-match': _wholebody_ids_do_not_match,
    'restore-device-cuda-7': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--input', osp.join(s, 'mosaic', 's8'), '--out',
         osp.join(tmp, 'r'), '--device', 'cuda:7'], ['--device cuda:7']),
    'restore-device-xpu': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--input', osp.join(s, 'mosaic', 's8'), '--out',
         osp.join(tmp, 'r'), '--device', 'xpu'], ['--device xpu', 'no xpu device']),
    'restore-device-not-a-device': lambda tmp, w, s: (
        ['tools/restore.py', TINY_CONFIG, w, '--input', osp.join(s, 'mosaic', 's8'), '--out',
         osp.join(tmp, 'r'), '--device', 'gpu0'], ['--device gpu0', 'not a device']),
}


#: one case per tool runs in a new interpreter, as a user's shell starts it (the rest fork from a
#: server that imported rdid_mm already: the same script, argv, exit code and stderr)
FRESH_INTERPRETER = set({case.split('-')[0]: case for case in reversed(CASES)}.values())


@pytest.mark.parametrize('case', [
    pytest.param(case, marks=pytest.mark.slow) if case in FRESH_INTERPRETER else case
    for case in CASES], ids=list(CASES))
def test_bad_input_is_one_line_error(case, tmp_path, tiny_weights, deid_sample):
    args, named = CASES[case](str(tmp_path), tiny_weights, deid_sample)
    tool = osp.basename(args[0])
    result = run_tool(args, timeout=600, fresh_interpreter=case in FRESH_INTERPRETER)
    assert result.returncode != 0, f'{args}: exit 0\n{result.stdout[-2000:]}'
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error:'), result.stderr[-3000:]
    print(f'{case}: {last}')
    for text in named:
        assert text in last, f'{text!r} not in {last!r}'
    assert not osp.exists(osp.join(tmp_path, 'code_ran'))


# ------------------------------------------------------------ images a tool takes or skips
SAMPLE_IMAGE = '000000000785.jpg'  # 640 x 425, one COCO-WholeBody face


def _huge_png(path, rgb):
    """A PNG whose header claims 100000 x 100000 pixels (a decompression bomb): 69 bytes."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8,
                                                                    2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b''))


def _save(mode, ext):
    def make(path, rgb):
        image = Image.fromarray(rgb)
        if mode == 'I;16':  # 16-bit grayscale: 8-bit grey times 257
            image = Image.fromarray(np.asarray(image.convert('L')).astype(np.uint16) * 257)
        elif mode != 'RGB':
            image = image.convert(mode)
        image.save(path)
        with Image.open(path) as saved:
            assert saved.mode == mode, (path, saved.mode)
    return make, ext


VALID = {'grayscale': _save('L', '.png'), '16-bit': _save('I;16', '.png'),
         'cmyk-jpeg': _save('CMYK', '.jpg'), 'rgba': _save('RGBA', '.png'),
         'la': _save('LA', '.png')}
BROKEN = {'empty-file': (lambda path, rgb: open(path, 'wb').close(), '.jpg', 'empty file'),
          'huge-image': (_huge_png, '.png', 'decompression bomb'),
          'missing-file': (None, '.jpg', 'file not found')}


def _outside(boxes, shape):
    mask = np.ones(shape[:2], bool)
    for x, y, w, h in boxes:
        mask[y:y + h, x:x + w] = False
    return mask


def _build_case(kind):
    """The builder on one sample image written as ``kind``, listed in a COCO-WholeBody json."""
    make, ext, *expected = VALID[kind] if kind in VALID else BROKEN[kind]

    def case(tmp, weights, sample):
        with open(osp.join(SAMPLE_DIR, 'annotations', 'test_coco_wholebody.json')) as f:
            coco = json.load(f)
        image = next(i for i in coco['images'] if i['file_name'] == SAMPLE_IMAGE)
        name = f'{kind}{ext}'
        img_dir, out = osp.join(tmp, 'images'), osp.join(tmp, 'out')
        os.makedirs(img_dir)
        path = osp.join(img_dir, name)
        if make is not None:
            make(path, read_image(osp.join(SAMPLE_DIR, 'val2017', SAMPLE_IMAGE)).rgb)
        coco['images'] = [dict(image, file_name=name)]
        if kind == 'huge-image':
            coco['images'][0].update(width=100000, height=100000)
        coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] == image['id']]
        ann_file = osp.join(tmp, 'wholebody.json')
        with open(ann_file, 'w') as f:
            json.dump(coco, f)
        args = ['tools/build_deid_dataset.py', '--ann-file', ann_file, '--wholebody-ann',
                ann_file, '--img-dir', img_dir, '--out', out, '--face-source', 'wholebody',
                '--strengths', '8']

        def check(log):
            with open(osp.join(out, 'summary.json')) as f:
                summary = json.load(f)
            if expected:  # skipped: named in the log, counted, nothing written for it
                assert f'skipped {name}: ' in log and expected[0] in log, log[-3000:]
                assert summary['images']['skipped'] == 1 and summary['images']['done'] == 0
                assert [s['file_name'] for s in summary['skipped']['files']] == [name]
                assert not osp.exists(osp.join(out, 'mosaic', 's8', kind + '.png'))
                return
            decoded = read_image(path)
            assert summary['images']['done'] == 1
            assert summary['images']['converted_to_rgb'] == {decoded.mode: 1}
            with open(osp.join(out, 'faces.json')) as f:
                boxes = [b[:4] for b in json.load(f)[name]]
            assert len(boxes) == 1
            mosaic = read_image(osp.join(out, 'mosaic', 's8', kind + '.png')).rgb
            original = decoded.rgb
            outside = _outside(boxes, original.shape)
            np.testing.assert_array_equal(mosaic[outside], original[outside])
            x, y, w, h = boxes[0]
            np.testing.assert_array_equal(mosaic[y:y + h, x:x + w],
                                          pixelate_reference(original[y:y + h, x:x + w], 8))
            with open(path, 'rb') as a, open(osp.join(out, 'gt', name), 'rb') as b:
                assert a.read() == b.read(), 'gt/ holds the file as given'
        return args, check
    return case


def _restore_case(kind):
    """``tools/restore.py --input`` on the builder's mosaic of one sample image written as
    ``kind`` (listed in a COCO json for the missing file), with its face box as --boxes."""
    make, ext, *expected = VALID[kind] if kind in VALID else BROKEN[kind]

    def case(tmp, weights, sample):
        stem = osp.splitext(SAMPLE_IMAGE)[0]
        with open(osp.join(sample, 'faces.json')) as f:
            boxes = [[int(v) for v in b[:4]] for b in json.load(f)[SAMPLE_IMAGE]]
        name = f'{kind}{ext}'
        in_dir, out = osp.join(tmp, 'input'), osp.join(tmp, 'out')
        os.makedirs(in_dir)
        path = osp.join(in_dir, name)
        if make is not None:
            make(path, read_image(osp.join(sample, 'mosaic', 's8', stem + '.png')).rgb)
        boxes_file = osp.join(tmp, 'boxes.json')
        with open(boxes_file, 'w') as f:
            json.dump({name: boxes}, f)
        args = ['tools/restore.py', TINY_CONFIG, weights, '--input', in_dir, '--boxes',
                boxes_file, '--out', out]
        if make is None:
            ann_file = osp.join(tmp, 'listed.json')
            with open(ann_file, 'w') as f:
                json.dump(dict(images=[dict(id=1, file_name=name, width=640, height=425)],
                               annotations=[], categories=[]), f)
            args += ['--ann-file', ann_file]

        def check(log):
            with open(osp.join(out, 'summary.json')) as f:
                summary = json.load(f)
            if expected:
                assert f'{name}: ' in log and expected[0] in log, log[-3000:]
                assert summary['failed'] == 1 and summary['restored'] == 0
                assert [(m['kind'], m['file']) for m in summary['messages']] == [('failed', name)]
                assert expected[0] in summary['messages'][0]['message']
                assert not osp.exists(osp.join(out, kind + '.png'))
                return
            assert summary['restored'] == 1 and summary['boxes'] == 1
            original = read_image(path).rgb
            restored = read_image(osp.join(out, kind + '.png')).rgb
            assert restored.shape == original.shape
            outside = _outside(boxes, original.shape)
            np.testing.assert_array_equal(restored[outside], original[outside])
        return args, check
    return case


HANDLED = {f'{tool}-{kind}': make(kind)
           for tool, make in (('build_deid_dataset', _build_case), ('restore', _restore_case))
           for kind in list(VALID) + list(BROKEN)}


@pytest.mark.parametrize('case', list(HANDLED), ids=list(HANDLED))
def test_unusual_or_broken_image_is_processed_or_skipped(case, tmp_path, tiny_weights,
                                                         deid_sample):
    args, check = HANDLED[case](str(tmp_path), tiny_weights, deid_sample)
    result = run_tool(args, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'Traceback' not in log, log[-3000:]
    check(log)


def test_bootstrap_refuses_zero_resamples():
    """The library side of ``--bootstrap 0``: a ValueError saying why, not numpy's empty stack."""
    from rdid_mm.evaluation.bootstrap import resample_weights
    with pytest.raises(ValueError, match='at least 1 resample, got 0'):
        resample_weights(4, 0, seed=0)
    assert resample_weights(4, 3, seed=0).sum(axis=1).tolist() == [4, 4, 4]


def test_readme_table_rows_match_the_cases_one_to_one():
    import re
    with open(osp.join(REPO_ROOT, 'docs', 'robustness.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme.split('## Bad input: what each tool does', 1)[1].split('\n## ', 1)[0]
    assert re.findall(r'^\| `([^`]+)` \|', section, re.M) == list(CASES) + list(HANDLED)
