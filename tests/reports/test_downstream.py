"""Trained on X, tested on GT: tiny RTMDet-tiny and RTMPose-t runs on the sample's GT, Mosaic s8
and a restored split (the tiny RDID-GAN, untrained), each scored on the original images."""
import csv
import io
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from rdid_mm.apis import init_model
from rdid_mm.evaluation import evaluate_coco_results
from rdid_mm.evaluation.detectors import build_detector
from rdid_mm.evaluation.detectors.scoring import detect_files
from rdid_mm.models.restorers import model_restorer
from rdid_mm.reports.downstream import (
    _train_weights,
    train_and_score,
    validation_options,
    variant_annotations,
)
from rdid_mm.restore.loop import restore_deid_folder
from rdid_mm.utils.weights_file import load_state_dict_file

from tests.conftest import REPO_ROOT
from tests.tools.test_train_test_tools import TINY_CONFIG

RTMDET_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmdet_tiny_person_smoke.py')
RTMPOSE_SMOKE = osp.join(REPO_ROOT, 'configs', 'downstream', 'rtmpose-t_smoke.py')
MODELS = [('RTMDet-tiny', RTMDET_SMOKE), ('RTMPose-t', RTMPOSE_SMOKE)]
SMOKE_NOTE = 'SMOKE TEST: 2 iterations on 4 images from random weights; measures only the plumbing.'


@pytest.fixture(scope='module')
def restored_dir(deid_sample, tmp_path_factory):
    """A restored training split: mosaic s8 restored by the tiny RDID-GAN (random weights)."""
    model = init_model(TINY_CONFIG)
    model.init_weights()
    out = str(tmp_path_factory.mktemp('restored') / 'train')
    counts = restore_deid_folder(model_restorer(model), deid_sample, 8, out)
    # region mode: the 3 images with a face box restored, 000000196141 (none) copied unchanged
    assert counts['restored'] == 3 and counts['copied_unchanged'] == 1
    return out


@pytest.fixture(scope='module')
def downstream(deid_sample, restored_dir, sample_ann_file, sample_img_dir, tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('downstream'))
    paths = train_and_score(deid_sample, sample_ann_file, sample_img_dir, out_dir, MODELS,
                            strengths=[8], restored=[('RDID-GAN', restored_dir)],
                            num_bootstrap=40, notes=[SMOKE_NOTE])
    return out_dir, paths


@pytest.mark.slow
def test_table_has_a_row_per_training_split_and_a_column_per_model(downstream):
    _, paths = downstream
    text = open(paths['markdown']).read()
    lines = text.splitlines()
    assert lines[0].startswith('| Trained on | RTMDet-tiny bbox AP | AP50 | Δ bbox AP vs GT | '
                               'RTMPose-t kpt AP | AP50 | Δ kpt AP vs GT |')
    rows = [line.split(' | ')[0].lstrip('| ') for line in lines[2:5]]
    assert rows == ['GT', 'Mosaic s8', 'RDID-GAN']
    assert SMOKE_NOTE in text and 'tested on the original images' in text
    assert lines[2].count('—') == 2  # no difference of GT to itself


@pytest.mark.slow
def test_each_run_trained_on_its_own_images(downstream, deid_sample, restored_dir):
    out_dir, paths = downstream
    results = json.load(open(paths['json']))
    assert len(results) == 6
    expected_dirs = {'GT': osp.join(deid_sample, 'gt'),
                     'Mosaic s8': osp.join(deid_sample, 'mosaic', 's8'), 'RDID-GAN': restored_dir}
    weights = {}
    for result in results:
        run_dir = osp.dirname(result['weights'])
        anns = json.load(open(osp.join(run_dir, 'train_annotations.json')))
        assert result['images'] == expected_dirs[result['variant']]
        assert result['train_images'] == len(anns['images']) == 4
        for image in anns['images']:
            assert osp.isfile(osp.join(result['images'], image['file_name']))
        weights[(result['model'], result['variant'])] = load_state_dict_file(result['weights'])
    for model in ('RTMDet-tiny', 'RTMPose-t'):
        gt, mosaic = weights[(model, 'GT')], weights[(model, 'Mosaic s8')]
        # the same seed and initialisation: only the training images differ, so equal weights
        # would mean the runs did not train, or did not read their own images
        assert set(gt) == set(mosaic)
        assert any(not np.array_equal(gt[k].numpy(), mosaic[k].numpy()) for k in gt
                   if gt[k].is_floating_point()), f'{model}: different pixels, same weights'


@pytest.mark.slow
def test_numbers_are_the_trained_model_scored_on_the_original_images(
        downstream, sample_ann_file, sample_img_dir):
    """An independent recomputation: the trained weights, rebuilt and run on the original images,
    give the detections the run kept; evaluate_coco_results on them gives the table's numbers."""
    _, paths = downstream
    results = json.load(open(paths['json']))
    table = list(csv.DictReader(io.StringIO(open(paths['csv']).read())))
    coco = json.load(open(sample_ann_file))
    img_ids = sorted(im['id'] for im in coco['images'])
    files = {im['id']: osp.join(sample_img_dir, im['file_name']) for im in coco['images']}
    for result in (results[1], results[5]):  # RTMDet on Mosaic s8, RTMPose on RDID-GAN
        kept_file = osp.join(osp.dirname(result['weights']), 'detections_on_originals.json')
        kept = json.load(open(kept_file))
        detector = build_detector(dict(config=result['config'], weights=result['weights']),
                                  ann_file=sample_ann_file)
        again = detect_files(detector, img_ids, [files[i] for i in img_ids])
        assert len(again) == len(kept) > 0
        assert [d['image_id'] for d in again] == [d['image_id'] for d in kept]
        np.testing.assert_allclose([d['bbox'] for d in again], [d['bbox'] for d in kept],
                                   atol=2e-3)
        np.testing.assert_allclose([d['score'] for d in again], [d['score'] for d in kept],
                                   rtol=1e-5)
        if 'keypoints' in kept[0]:
            np.testing.assert_allclose([d['keypoints'] for d in again],
                                       [d['keypoints'] for d in kept], atol=2e-3)
        direct = evaluate_coco_results(sample_ann_file, kept_file)
        for name, value in result['stats'].items():
            expected = direct[f'coco/{name}']
            assert (value is None and np.isnan(expected)) or value == pytest.approx(
                expected, abs=1e-12), name
        short = 'bbox' if result['model'] == 'RTMDet-tiny' else 'kpt'
        row = next(r for r in table if r['model'] == result['model']
                   and r['trained_on'] == result['variant'] and r['metric'] == f'{short}_AP')
        assert float(row['value']) == pytest.approx(direct[f'coco/{short}_AP'], abs=1e-12)
        assert float(row['low']) <= float(row['value']) + 1e-12
        assert float(row['high']) >= float(row['value']) - 1e-12


@pytest.mark.slow
def test_rerun_reuses_the_trained_weights(downstream, deid_sample, restored_dir,
                                          sample_ann_file, sample_img_dir):
    out_dir, paths = downstream
    before = open(paths['markdown']).read()
    mtimes = {r['weights']: osp.getmtime(r['weights']) for r in json.load(open(paths['json']))}
    again = train_and_score(deid_sample, sample_ann_file, sample_img_dir, out_dir, MODELS,
                            strengths=[8], restored=[('RDID-GAN', restored_dir)],
                            num_bootstrap=40, notes=[SMOKE_NOTE])
    assert open(again['markdown']).read() == before
    assert {w: osp.getmtime(w) for w in mtimes} == mtimes


def test_variant_annotations_map_names_and_count_missing_images(deid_sample, tmp_path):
    mosaic = osp.join(deid_sample, 'mosaic', 's8')
    ann = osp.join(deid_sample, 'annotations', 'person_keypoints.json')
    out = tmp_path / 'a.json'
    assert variant_annotations(ann, mosaic, str(out)) == dict(images=4, missing=0)
    names = [im['file_name'] for im in json.load(open(out))['images']]
    assert all(n.endswith('.png') for n in names)
    partial = tmp_path / 'partial'
    partial.mkdir()
    (partial / names[0]).write_bytes(open(osp.join(mosaic, names[0]), 'rb').read())
    assert variant_annotations(ann, str(partial), str(out)) == dict(images=1, missing=3)
    data = json.load(open(out))
    assert {a['image_id'] for a in data['annotations']} == {data['images'][0]['id']}
    with pytest.raises(FileNotFoundError, match=r'none of the 4 images of .* is there'):
        variant_annotations(ann, str(tmp_path), str(out))


@pytest.mark.slow
def test_tool_reports_bad_input_in_one_line(deid_sample, sample_ann_file, sample_img_dir,
                                            tmp_path):
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'downstream_table.py'), deid_sample,
         '--val-ann-file', sample_ann_file, '--val-img-dir', sample_img_dir,
         '--out-dir', str(tmp_path), '--model', 'X', str(tmp_path / 'missing.py')],
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'downstream_table.py: error: config file not found: {tmp_path / "missing.py"}')
    assert 'Traceback' not in result.stderr


def test_evaluated_weights_are_the_ema_models_when_the_config_trains_with_ema():
    """mmdet evaluates RTMDet with its EMA weights (EMAHook): so does the downstream table."""
    from types import SimpleNamespace

    import torch
    from mmengine.hooks import EMAHook
    model = torch.nn.Linear(2, 2)
    runner = SimpleNamespace(model=model, hooks=[], _resume=False)
    assert _train_weights(runner)['weight'] is not None
    hook = EMAHook(ema_type='ExponentialMovingAverage', momentum=0.5)
    hook.before_run(runner)
    runner.hooks.append(hook)
    hook.ema_model.update_parameters(model)  # the first update copies the model
    with torch.no_grad():
        model.weight.add_(1.0)
    hook.ema_model.update_parameters(model)  # then averages: halfway at momentum 0.5
    ema = _train_weights(runner)['weight']
    assert not torch.equal(ema, model.weight) and torch.equal(
        ema, hook.ema_model.module.weight)


def test_validation_during_training_reads_the_original_images(sample_ann_file, sample_img_dir):
    from mmengine.config import Config
    full = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'downstream',
                                    'rtmdet_tiny_person_8xb32-300e_deid.py'))
    options = validation_options(full, sample_ann_file, sample_img_dir)
    assert options['val_dataloader.dataset.ann_file'] == osp.abspath(sample_ann_file)
    assert options['val_evaluator.ann_file'] == osp.abspath(sample_ann_file)
    assert options['test_dataloader.dataset.data_prefix'] == dict(
        img=osp.abspath(sample_img_dir) + '/')
    full.merge_from_dict(options)
    assert full.val_dataloader.dataset.data_prefix.img == osp.abspath(sample_img_dir) + '/'
    smoke = validation_options(Config.fromfile(RTMDET_SMOKE), sample_ann_file, sample_img_dir)
    assert not any(k.startswith('val_') for k in smoke)  # the smoke has no validation loop
