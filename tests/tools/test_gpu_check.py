"""tools/gpu_check: the CPU dry run of the GPU check, its wheelhouse manifest and its mmcv shim.

The dry run is the same script the GPU machine runs (``--dry-run --device cpu``: tiny networks,
32 px crops, two steps), with ``--force-mmcv-stub`` so that the models run with the stand-in for
``mmcv._ext`` that the GPU machine gets.
"""
import importlib.util
import json
import os
import os.path as osp
import re
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.helpers import run_tool

KIT = osp.join(REPO_ROOT, 'tools', 'gpu_check')
GPU_CHECK = osp.join(KIT, 'gpu_check.py')
# The wheelhouse installs mmcv-lite (mmcv without compiled ops) where this environment has mmcv.
SUBSTITUTES = {'mmcv': 'mmcv-lite'}


def load_kit_module(name):
    spec = importlib.util.spec_from_file_location(f'gpu_check_{name}', osp.join(KIT, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalise(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def run(args, env=None, timeout=900, fresh_interpreter=False):
    return run_tool(args, timeout=timeout, fresh_interpreter=fresh_interpreter,
                    env={**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})})


@pytest.fixture(scope='module')
def dry_run(deid_sample, tmp_path_factory):
    """One CPU dry run of every section; returns (report dict, markdown text, out dir)."""
    out = str(tmp_path_factory.mktemp('gpu_check'))
    result = run([sys.executable, GPU_CHECK, '--out', out, '--dry-run', '--device', 'cpu',
                  '--deid-sample', deid_sample, '--force-mmcv-stub', '--profile',
                  '--time-budget', '3000'],  # a busy CPU must not skip sections here
                 fresh_interpreter=True)  # --force-mmcv-stub acts before mmcv is imported
    assert result.returncode == 0, f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    with open(osp.join(out, 'gpu_check.json')) as f:
        report = json.load(f)
    with open(osp.join(out, 'gpu_check.md')) as f:
        text = f.read()
    assert text in result.stdout  # the table is printed last, for the device tool's output tail
    return report, text, out


@pytest.mark.slow
def test_dry_run_runs_every_section(dry_run):
    report, _, _ = dry_run
    assert report['errors'] == [] and report['skipped'] == []
    assert report['finished'] is True
    assert set(report['sections']) == {'env', 'ceiling', 'flops', 'train', 'ddp', 'restore',
                                       'profile'}
    assert report['sections']['env']['mmcv_ops'].startswith('stub')
    assert report['mmcv_ops_stub_calls'] == []  # no compiled mmcv op ran in any section


@pytest.mark.slow
def test_train_rows_are_consistent(dry_run):
    """Every model x memory format x batch size, fp32 on CPU; the derived figures recomputed."""
    report, text, _ = dry_run
    rows = report['sections']['train']['rows']
    keys = {(r['model'], r['amp'], r['channels_last'], r['batch']) for r in rows}
    assert keys == {(m, 'none', cl, b) for m in ('RDID-GAN', 'CycleGAN')
                    for cl in (False, True) for b in (1, 2)}
    flops = report['sections']['flops']
    limit = 790e12  # CPU: the nominal H200 bf16 rate
    for r in rows:
        assert r['min_step_s'] <= r['median_step_s'] <= r['max_step_s']
        assert r['images_per_s'] == pytest.approx(r['batch'] / r['median_step_s'])
        per_sample = flops[r['model']]['flop_per_sample']
        assert r['flop_fraction'] == pytest.approx(r['images_per_s'] * per_sample / limit)
        assert r['flop_fraction_assumed'] == pytest.approx(
            r['images_per_s'] * 1.3e12 * (32 / 256)**2 / limit)
        assert f"| {r['model']} | fp32 | {r['channels_last']} | {r['batch']} |" in text
    verdict = report['sections']['train']['verdict']
    best = max((r for r in rows if r['model'] == 'RDID-GAN'), key=lambda r: r['images_per_s'])
    cyclegan = max(r['images_per_s'] for r in rows if r['model'] == 'CycleGAN')
    assert verdict['best_rdid_gan']['images_per_s'] == best['images_per_s']
    assert verdict['speedup_vs_cyclegan_fp32'] == pytest.approx(best['images_per_s'] / cyclegan)
    assert verdict['meets_images_per_s'] is (best['images_per_s'] >= 210)


@pytest.mark.slow
def test_flops_counted_per_sample(dry_run):
    """The counted FLOPs scale by area to 256 px, and RDID-GAN (CBAM, no identity forwards) and
    CycleGAN (two identity forwards at weight 0) differ."""
    flops = dry_run[0]['sections']['flops']
    for name in ('RDID-GAN', 'CycleGAN'):
        assert flops[name]['flop_per_sample'] > 0
        assert flops[name]['flop_per_sample_at_256'] == pytest.approx(
            flops[name]['flop_per_sample'] * 64)
    assert flops['RDID-GAN']['flop_per_sample'] != flops['CycleGAN']['flop_per_sample']


@pytest.mark.slow
def test_ddp_section_uses_the_runner(dry_run):
    ddp = dry_run[0]['sections']['ddp']
    assert ddp['backend'] == 'gloo' and ddp['world_size'] == 1
    # the wrapper the config's model_wrapper_cfg names, built by the Runner
    assert ddp['wrapper'] == 'MMSeparateDistributedDataParallel'
    assert ddp['images_per_s'] == pytest.approx(ddp['batch'] / ddp['median_step_s'])
    assert ddp['gradients_synchronised'] is (ddp['allreduces_in_one_step'] > 0)
    assert ddp['launcher'].startswith('python -m torch.distributed.run --nproc_per_node 1')


@pytest.mark.slow
def test_restore_section(dry_run, deid_sample):
    restore = dry_run[0]['sections']['restore']
    rows = {r['mode']: r for r in restore['rows']}
    before, batched = 'region, 4 images per batch', 'region, batched'
    assert set(rows) == {'whole-image', before, batched}
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    names = sorted(faces)[:2]  # --restore-copies 2 in the dry run
    for mode in (before, batched):
        assert rows[mode]['regions'] == sum(len(faces[n]) for n in names)
        assert rows[mode]['speedup_vs_whole'] == pytest.approx(
            rows[mode]['images_per_s'] / rows['whole-image']['images_per_s'])
    for r in rows.values():
        assert r['images'] == 2
        assert r['images_per_s'] == pytest.approx(2 / r['seconds'])
    assert rows[batched]['speedup_vs_4_per_batch'] == pytest.approx(
        rows[batched]['images_per_s'] / rows[before]['images_per_s'])


@pytest.mark.slow
def test_profile_lists_top_ops(dry_run):
    profile = dry_run[0]['sections']['profile']
    names = [op['name'] for op in profile['top_ops']]
    assert any('convolution' in name for name in names)
    assert sum(op['share'] for op in profile['top_ops']) <= 1.0 + 1e-6


@pytest.mark.slow
def test_manifest_lists_what_the_check_imports(dry_run):
    """Every distribution the dry run imported is in the wheelhouse or on the GPU machine's image,
    every wheel of the wheelhouse is imported, and its pins are the project's."""
    build = load_kit_module('build_wheelhouse')
    pins = {normalise(name): version for name, version in build.read_requirements()}
    with open(osp.join(KIT, 'gpu_machine_packages.txt')) as f:
        machine = {normalise(line.strip()) for line in f if line.strip() and line[0] != '#'}
    imported = {normalise(SUBSTITUTES.get(normalise(d), d))
                for d in dry_run[0]['imported_distributions']} - {'rdid-mm'}
    missing = sorted(imported - set(pins) - machine - set(build.NOT_CARRIED))
    assert not missing, f'imported by the check, neither carried nor on the GPU image: {missing}'
    unused = sorted(set(pins) - imported)
    assert not unused, f'carried but not imported by gpu_check.py: {unused}'
    project = {}
    for path in os.listdir(osp.join(REPO_ROOT, 'requirements')):
        with open(osp.join(REPO_ROOT, 'requirements', path)) as f:
            for line in f:
                if '==' in line and not line.startswith('#'):
                    name, version = line.split('#')[0].strip().split('==')
                    project[normalise(name)] = version
    differs = {n: (v, project[n]) for n, v in pins.items() if n in project and project[n] != v}
    assert not differs, f'wheelhouse pins differ from requirements/: {differs}'


@pytest.mark.slow
def test_time_budget_skips_with_a_note(deid_sample, tmp_path):
    result = run([sys.executable, GPU_CHECK, '--out', str(tmp_path), '--dry-run', '--device',
                  'cpu', '--deid-sample', deid_sample, '--time-budget', '0',
                  '--batch-sizes', '1'])
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / 'gpu_check.json') as f:
        report = json.load(f)
    skipped = [s['what'] for s in report['skipped']]
    assert {'flops', 'ddp', 'restore'} <= set(skipped)
    assert sum(s.startswith('train ') for s in skipped) == 4  # 2 models x 2 memory formats
    assert 'train' not in report['sections'] or not report['sections']['train']['rows']
    assert all(s['why'].startswith('time budget') for s in report['skipped'])
    text = (tmp_path / 'gpu_check.md').read_text()
    assert '- skipped ddp: time budget' in text


@pytest.mark.slow
def test_mmcv_ops_stub_imports_and_raises_on_call():
    """With the stub, mmagic's models (which import mmcv.ops) import; calling an op fails loudly."""
    code = '\n'.join([
        'import sys', f'sys.path.insert(0, {KIT!r})', 'import mmcv_ops_stub',
        'stub = mmcv_ops_stub.install(force=True)', 'import rdid_mm', 'import mmagic.models',
        'import mmcv.ops, torch', 'assert sys.modules["mmcv._ext"] is stub',
        'try:',
        '    mmcv.ops.nms(torch.rand(3, 4), torch.rand(3), 0.5)',
        'except mmcv_ops_stub.MmcvOpUnavailable as err:',
        '    print("RAISED", err)',
        'print("CALLS", stub.calls)'])
    result = run([sys.executable, '-c', code])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RAISED mmcv compiled op 'nms' was called" in result.stdout
    assert "CALLS ['nms']" in result.stdout


def test_mmcv_ops_stub_leaves_a_real_build_alone():
    stub = load_kit_module('mmcv_ops_stub')
    if not stub.real_ext_available():
        pytest.skip('this environment has no compiled mmcv._ext')
    assert stub.install() is None  # not forced: the compiled ops stay


def test_allreduce_counter_sees_ddp_gradient_sync():
    """The DDP section's counter finds the all-reduce of a DDP backward (gloo, world size 1), and
    none without DDP: so its 0 for today's models means no gradient was synchronised."""
    code = '\n'.join([
        'import os, sys, torch, torch.distributed as dist',
        'from torch.profiler import profile, ProfilerActivity',
        f'sys.path.insert(0, {KIT!r})', 'import kit_common, section_ddp',
        "os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(kit_common.free_port()),",
        "                  RANK='0', WORLD_SIZE='1')",
        "dist.init_process_group('gloo')",
        'plain = torch.nn.Linear(4, 4)',
        'ddp = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 4))',
        'for model in (plain, ddp):',
        '    with profile(activities=[ProfilerActivity.CPU]) as prof:',
        '        model(torch.randn(2, 4)).sum().backward()',
        '    print("COUNT", section_ddp.count_allreduces(prof))',
        'dist.destroy_process_group()'])
    result = run([sys.executable, '-c', code])
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.findall(r'COUNT (\d+)', result.stdout) == ['0', '1']


def test_check_wheels_refuses_a_wrong_wheelhouse(tmp_path):
    build = load_kit_module('build_wheelhouse')
    pins = [('mmengine', '0.10.7'), ('addict', '2.4.0')]

    def wheelhouse(*names):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(b'')
        return str(folder)

    good = wheelhouse('mmengine-0.10.7-py3-none-any.whl', 'addict-2.4.0-py3-none-any.whl')
    assert set(build.check_wheels(pins, good)) == {'mmengine', 'addict'}
    cases = {
        'no wheel of addict==2.4.0': ('mmengine-0.10.7-py3-none-any.whl',),
        'version differs': ('mmengine-0.10.6-py3-none-any.whl', 'addict-2.4.0-py3-none-any.whl'),
        'not in requirements.txt': ('mmengine-0.10.7-py3-none-any.whl',
                                    'addict-2.4.0-py3-none-any.whl',
                                    'yapf-0.43.0-py3-none-any.whl'),
        'not a wheel': ('mmengine-0.10.7.tar.gz', 'addict-2.4.0-py3-none-any.whl'),
    }
    for message, names in cases.items():
        with pytest.raises(RuntimeError, match=message):
            build.check_wheels(pins, wheelhouse(*names))


def test_read_requirements_names_a_bad_line(tmp_path):
    build = load_kit_module('build_wheelhouse')
    path = tmp_path / 'requirements.txt'
    path.write_text('# comment\nmmengine==0.10.7\nmmagic>=1.2\n')
    with pytest.raises(ValueError, match=r'requirements.txt:3: not a name==version pin'):
        build.read_requirements(str(path))


def test_run_script_without_wheelhouse_says_what_to_do(tmp_path):
    result = run(['bash', osp.join(KIT, 'run_gpu_check.sh'), '--out', str(tmp_path)],
                 env={'GPU_CHECK_CARRY': str(tmp_path / 'none')})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        f'run_gpu_check.sh: error: no wheels in {tmp_path}/none/wheels')


def test_region_restore_changes_only_the_boxes(deid_sample, monkeypatch):
    """The restore section times rdid_mm.restore: region mode changes each face box and nothing
    else, and equals the restore loop's region restorer; whole-image mode returns every image at
    its own size."""
    import numpy as np
    import torch
    from mmengine.registry import init_default_scope

    import rdid_mm.models  # noqa: F401
    from rdid_mm.models.region_restore import restore_regions
    from rdid_mm.models.restorers import model_restorer
    from rdid_mm.utils.boxes import box_to_slices
    monkeypatch.syspath_prepend(KIT)
    import kit_common
    import section_restore
    init_default_scope('rdid_mm')
    bench = kit_common.load_benchmark_module()
    torch.manual_seed(0)
    model, _ = bench.build_model('RDID-GAN', torch.device('cpu'),
                                 model_overrides=kit_common.TINY_MODEL)
    restorer = model_restorer(model.eval())
    images = section_restore.load_sample(deid_sample, 8, 4)
    regions, count = section_restore.restore_sample(restorer, images, 'region, batched')
    before, _ = section_restore.restore_sample(restorer, images, 'region, 4 images per batch')
    whole, _ = section_restore.restore_sample(restorer, images[:1], 'whole-image')
    assert count == sum(len(boxes) for _, _, boxes in images) > 0
    loop = restore_regions([img for _, img, _ in images], [b for _, _, b in images], restorer)
    for (_, img, boxes), out, expected, out_before in zip(images, regions, loop, before):
        inside = np.zeros(img.shape[:2], bool)
        for box in boxes:
            rows, cols = box_to_slices(box, *img.shape[:2])
            inside[rows, cols] = True
            assert not np.array_equal(out[rows, cols], img[rows, cols])
        assert np.array_equal(out[~inside], img[~inside])
        assert np.array_equal(out, expected)
        assert np.abs(out.astype(int) - out_before).max() <= 1  # batching: float rounding only
    assert whole[0].shape == images[0][1].shape and whole[0].dtype == np.uint8
