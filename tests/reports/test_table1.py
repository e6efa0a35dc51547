"""Table 1, the strength sweep and the qualitative grid on the de-identified sample."""
import csv
import json
import os.path as osp
import re
import sys

import pytest

from rdid_mm.evaluation import evaluate_coco_results
from rdid_mm.reports import make_qualitative_grid, make_strength_sweep, make_table1
from rdid_mm.reports.table1 import trained_strengths
from rdid_mm.utils.io import read_rgb

from tests.conftest import REPO_ROOT
from tests.evaluation.detector_double import SMALL_DETECTOR
from tests.helpers import run_tool

TINY_RDID_GAN = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                         'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory):
    """One detections cache for every table of this module."""
    return str(tmp_path_factory.mktemp('eval_cache'))


@pytest.fixture(scope='module')
def table_command(deid_sample, cache_dir, tmp_path_factory):
    """``tools/eval_table.py`` on two strengths, run twice (the second time from the cache)."""
    out_dir = tmp_path_factory.mktemp('table1')
    command = [
        sys.executable, osp.join(REPO_ROOT, 'tools', 'eval_table.py'), deid_sample,
        '--out-dir', str(out_dir), '--cache-dir', cache_dir, '--strengths', '8', '16',
        '--detector-weights', 'none', '--min-size', str(SMALL_DETECTOR['min_size']),
        '--max-size', str(SMALL_DETECTOR['max_size']), '--detections-per-img',
        str(SMALL_DETECTOR['box_detections_per_img']), '--device', 'cpu', '--bootstrap', '200'
    ]
    runs = [run_tool(command, timeout=600)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out_dir, runs


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_table1_command_writes_markdown_csv_and_plot(table_command):
    out_dir, runs = table_command
    markdown = (out_dir / 'table1.md').read_text()
    labels = re.findall(r'^\| (GT|Mosaic s\d+) \|', markdown, flags=re.M)
    assert labels == ['GT', 'Mosaic s8', 'GT', 'Mosaic s16']
    assert 'bootstrap interval over images (200 resamples' in markdown
    rows = _csv_rows(out_dir / 'table1.csv')
    assert [(r['row'], r['block_strength']) for r in rows] == [
        ('GT', '8'), ('Mosaic s8', '8'), ('GT', '16'), ('Mosaic s16', '16')]
    for row in rows:
        for column in ('bbox_AP', 'kpt_AP', 'bbox_AP50', 'kpt_AP75'):
            value, low, high = (float(row[column + s]) for s in ('', '_low', '_high'))
            assert 0.0 <= low <= high <= 1.0 and 0.0 <= value <= 1.0
    gt8, mosaic8 = rows[0], rows[1]
    assert float(gt8['diff_bbox_AP']) == pytest.approx(
        float(gt8['bbox_AP']) - float(mosaic8['bbox_AP']))
    assert mosaic8['diff_bbox_AP'] == '' and mosaic8['face_PSNR'] != '' and gt8['face_PSNR'] == ''
    png = read_rgb(str(out_dir / 'ap_vs_strength.png'))
    assert png.shape[0] > 200 and png.shape[1] > 400 and png.std() > 10


@pytest.mark.slow
def test_rerun_reads_the_cache(table_command):
    out_dir, (first, second) = table_command
    assert '3 rows (0 from the cache)' in first.stdout + first.stderr
    log = second.stdout + second.stderr
    assert '3 rows (3 from the cache)' in log and 'Mosaic s16: scores read from the cache' in log
    seconds = float(re.search(r'3 rows \(3 from the cache\) in ([\d.]+) s', log).group(1))
    assert seconds < 5


@pytest.mark.slow
def test_table_numbers_are_cocoeval_of_the_cached_detections(table_command, deid_sample,
                                                             cache_dir, tmp_path):
    out_dir, _ = table_command
    with open(osp.join(cache_dir, 'rows', 'gt-GT.json')) as f:
        detections = json.load(f)['detections']
    results = tmp_path / 'gt.json'
    results.write_text(json.dumps(detections))
    direct = evaluate_coco_results(
        osp.join(deid_sample, 'annotations', 'person_keypoints.json'), str(results))
    gt_row = _csv_rows(out_dir / 'table1.csv')[0]
    for name in ('bbox_AP', 'bbox_AP50', 'bbox_AP75', 'kpt_AP', 'kpt_AP50', 'kpt_AP75'):
        assert float(gt_row[name]) == pytest.approx(direct[f'coco/{name}'], abs=1e-12)


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """Random weights of the tiny RDID-GAN config, as a weights file."""
    from mmengine.config import Config

    from rdid_mm.engine import register_all_modules
    from rdid_mm.registry import MODELS
    from rdid_mm.utils.weights_file import save_state_dict_file
    register_all_modules()
    model = MODELS.build(Config.fromfile(TINY_RDID_GAN).model)
    path = str(tmp_path_factory.mktemp('tiny_rdid_gan') / 'tiny.safetensors')
    save_state_dict_file(model.state_dict(), path)
    return path


@pytest.mark.slow
def test_model_rows_restore_score_and_cache(deid_sample, cache_dir, tiny_checkpoint, tmp_path):
    paths = make_table1(deid_sample, str(tmp_path), strengths=[8, 16],
                        models=[('RDID-GAN', TINY_RDID_GAN, tiny_checkpoint)],
                        detector=SMALL_DETECTOR, cache_dir=cache_dir, device='cpu',
                        num_bootstrap=50)
    rows = _csv_rows(paths['csv'])
    assert [r['row'] for r in rows] == ['GT', 'Mosaic s8', 'RDID-GAN s8', 'GT', 'Mosaic s16']
    model_row = rows[2]
    assert model_row['checkpoint'] == tiny_checkpoint and model_row['diff_kpt_AP'] != ''
    assert 0 < float(model_row['face_PSNR']) < 100
    restored = osp.join(cache_dir, 'rows', 'model-RDID-GAN-s8', 'images', 's8',
                        '000000000785.png')
    assert read_rgb(restored).shape == (425, 640, 3)

    sweep = make_strength_sweep(deid_sample, str(tmp_path / 'sweep'), strengths=[8, 16],
                                models=[('RDID-GAN', TINY_RDID_GAN, tiny_checkpoint)],
                                detector=SMALL_DETECTOR, cache_dir=cache_dir, device='cpu',
                                num_bootstrap=50)
    series = _csv_rows(sweep['csv'])
    assert {(r['row'], r['strength']) for r in series} == {
        (name, s) for name in ('GT', 'Mosaic', 'RDID-GAN') for s in ('8', '16')}
    assert osp.getsize(sweep['plot']) > 10000
    assert '### Keypoint AP (%)' in open(sweep['markdown']).read()

    grid = make_qualitative_grid(
        deid_sample, 8, [('RDID-GAN', osp.dirname(restored))], str(tmp_path / 'grid.png'))
    image = read_rgb(grid)
    assert image.shape[0] > 2 * 240 and image.std() > 10


@pytest.mark.slow
def test_model_rows_restore_as_the_model_was_trained(deid_sample, tiny_checkpoint, tmp_path):
    """A model trained on face crops: the row's images are the restore loop's region mode (equal
    to ``tools/restore.py --deid-dir``); one trained on whole resized images: the test loop's
    whole-image restoration (every pixel the generator's)."""
    import numpy as np

    from rdid_mm.apis import init_model
    from rdid_mm.layout import DeidLayout, restored_path
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.restore.loop import restore_deid_folder
    from rdid_mm.restore.regions import restore_whole
    whole_config = tmp_path / 'tiny_resize.py'
    whole_config.write_text(
        f"_base_ = ['{TINY_RDID_GAN}']\n"
        "keys = ['img_mosaic', 'img_gt']\n"
        "train_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadRGBImage', key=keys[0]), dict(type='LoadRGBImage', key=keys[1]),\n"
        "    dict(type='Resize', keys=keys, scale=(32, 32), keep_ratio=False),\n"
        "    dict(type='PackInputs', keys=keys)]))\n")
    layout = DeidLayout(deid_sample)
    for name, config, mode in (('crops', TINY_RDID_GAN, 'region'),
                               ('whole', str(whole_config), 'whole')):
        cache = str(tmp_path / f'cache_{name}')
        paths = make_table1(deid_sample, str(tmp_path / name), strengths=[8],
                            models=[(name, config, tiny_checkpoint)], detector=SMALL_DETECTOR,
                            cache_dir=cache, device='cpu', num_bootstrap=20, face_models=False)
        assert 'a model trained on face crops restores in region mode' in open(
            paths['markdown']).read()
        row_images = osp.join(cache, 'rows', f'model-{name}-s8', 'images', 's8')
        model = init_model(config, tiny_checkpoint)
        reference = str(tmp_path / f'restored_{name}')
        if mode == 'region':
            restore_deid_folder(model_restorer(model), deid_sample, 8, reference)
        for file_name in layout.faces():
            from_table = read_rgb(restored_path(row_images, file_name))
            mosaic = read_rgb(layout.mosaic(file_name, 8))
            if mode == 'region':
                expected = read_rgb(restored_path(reference, file_name))
            else:
                expected = restore_whole(mosaic, model_restorer(model))
            np.testing.assert_array_equal(from_table, expected)
            changed = (from_table != mosaic).any(axis=-1).mean()
            assert (changed > 0.9) if mode == 'whole' else (changed < 0.5), (name, changed)


def test_unknown_strength_and_missing_checkpoint_are_named(deid_sample, tmp_path):
    with pytest.raises(ValueError, match=r'no mosaic folder for strength\(s\) \[3\]'):
        make_table1(deid_sample, str(tmp_path), strengths=[3], detector=SMALL_DETECTOR)
    with pytest.raises(FileNotFoundError, match='checkpoint file not found: .*none.safetensors'):
        make_table1(deid_sample, str(tmp_path), strengths=[8], detector=SMALL_DETECTOR,
                    models=[('X', TINY_RDID_GAN, str(tmp_path / 'none.safetensors'))])


@pytest.mark.slow
def test_face_model_columns_equal_a_direct_call_of_the_face_models(table_command, deid_sample):
    """CenterFace recall, landmark error and identity top-1 of the GT and Mosaic rows, against
    the functions called directly (a fresh detector and audit, not the table's)."""
    from rdid_mm.layout import DeidLayout
    from rdid_mm.privacy import IdentityAudit, identity_top1
    from rdid_mm.privacy.audit_rows import parse_row
    from rdid_mm.privacy.face_models import centerface_recall, landmark_error
    out_dir, _ = table_command
    markdown = (out_dir / 'table1.md').read_text()
    assert '| CenterFace recall | landmark err | identity top-1 |' in markdown
    layout = DeidLayout.existing(deid_sample)
    faces, names = layout.faces(), [image['file_name'] for image in layout.images()]
    originals = {name: layout.gt(name) for name in names}
    audit = IdentityAudit(deid_sample)
    rows = {r['row']: r for r in _csv_rows(out_dir / 'table1.csv')}
    for label, spec in (('GT', 'original'), ('Mosaic s8', 'mosaic:s8'),
                        ('Mosaic s16', 'mosaic:s16')):
        row = parse_row(spec, layout)
        paths = {name: row.path_for(name) for name in names}
        recall = centerface_recall(paths, faces)
        error = landmark_error(paths, originals, faces)
        top1 = identity_top1(audit, row)
        csv_row = rows[label]
        assert float(csv_row['centerface_recall']) == pytest.approx(recall['centerface_recall'])
        assert int(csv_row['centerface_faces']) == recall['centerface_faces'] > 0
        assert float(csv_row['landmark_error']) == pytest.approx(error['landmark_error'])
        assert int(csv_row['landmark_faces']) == error['landmark_faces']
        assert float(csv_row['identity_top1']) == pytest.approx(top1['identity_top1'])
        assert int(csv_row['identity_faces']) == top1['identity_faces'] > 0
        line = next(ln for ln in markdown.splitlines() if ln.startswith(f'| {label} |'))
        assert line.rstrip(' |').endswith(f'{100 * top1["identity_top1"]:.1f}')
    assert float(rows['GT']['landmark_error']) == 0.0, 'the originals against themselves'


@pytest.mark.slow
def test_no_face_models_leaves_the_columns_out(table_command, deid_sample, cache_dir, tmp_path):
    command = list(table_command[1][0].args)
    command[command.index('--out-dir') + 1] = str(tmp_path)
    result = run_tool(command + ['--no-face-models'], timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'CenterFace' not in (tmp_path / 'table1.md').read_text()
    assert 'centerface_recall' not in (tmp_path / 'table1.csv').read_text()


@pytest.mark.parametrize('config, child_lines, expected', [
    ('rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py', '', [8]),
    ('rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py', 'strengths = [16]\n', [16]),
    ('rdid-gan_resnet-cbam-demo_1xb4-1500i_deid-sample.py', 'strengths = [16, 8]\n', [16, 8]),
    ('rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py',
     'train_dataloader = dict(dataset=dict(strengths=[4]))\nstrengths = [16]\n', [4]),
])
def test_a_model_row_is_scored_at_the_strengths_its_config_trains_on(
        tmp_path, config, child_lines, expected):
    """The top-level ``strengths`` of a child config, unless its training dataset sets its own
    (the rule the training loop fills datasets by)."""
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{osp.join(REPO_ROOT, 'configs', 'rdid_gan', config)}']\n"
                     + child_lines)
    assert trained_strengths(str(child)) == expected
