"""Build, here, what the GPU check carries to the lent GPU machine; fail if it would not travel.

    python tools/gpu_check/build_wheelhouse.py            # -> tools/gpu_check/carry/

Writes (the folder is git-ignored; the device tool's ``carry`` names it):

- ``carry/wheels/``: the wheels of ``requirements.txt`` for CPython 3.12 on manylinux x86_64,
  downloaded with ``pip download --only-binary :all: --no-deps`` (pure-Python or cp312/abi3);
- ``carry/deid_sample/``: the builder's output for the shared COCO sample at strength 8 (WholeBody
  face boxes), the input of the restoration section;
- ``carry/MANIFEST.json``: each wheel with its size and sha256, the sample's files, the sizes.

The working tree travels too: it fails when tracked + untracked-not-ignored files + carry exceed
the device tool's 64 MiB. Needs PyPI (pip download) and the project's environment (the builder).
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import tempfile

KIT_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(KIT_DIR))
DEFAULT_CARRY = osp.join(KIT_DIR, 'carry')
REQUIREMENTS = osp.join(KIT_DIR, 'requirements.txt')
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'coco_person_sample')
LIMIT_BYTES = 64 * 2**20
# Imported by the check in the project's environment but deliberately not carried: each is an
# optional import upstream that the GPU machine's image lacks, or is provided there otherwise.
NOT_CARRIED = {
    'mmdet': "mmagic/datasets/transforms/crop.py: try_import('mmdet.apis'), None when absent; "
             "only mmagic's detection-based crop uses it",
    'shapely': 'imported by mmdet only',
    'terminaltables': 'imported by mmdet only',
    'opencv-python': "cv2 comes from opencv-python-headless on the GPU machine (here both "
                     "distributions provide it)",
}
# pip matches each manylinux tag exactly: offer the ones the GPU machine's glibc accepts.
PLATFORMS = ('manylinux2014_x86_64', 'manylinux_2_17_x86_64', 'manylinux_2_27_x86_64',
             'manylinux_2_28_x86_64', 'manylinux1_x86_64')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--carry', default=DEFAULT_CARRY, help='output folder (git-ignored)')
    parser.add_argument('--sample-dir', default=DEFAULT_SAMPLE,
                        help='the COCO person sample (val2017/, annotations/)')
    parser.add_argument('--python-version', default='3.12')
    parser.add_argument('--no-sample', action='store_true', help='wheels only')
    return parser.parse_args(argv)


def read_requirements(path=REQUIREMENTS):
    """[(name, version)] of ``name==version`` lines; comments and blank lines ignored."""
    pins = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            match = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)', line)
            if not match:
                raise ValueError(f'{path}:{number}: not a name==version pin: {line!r}')
            pins.append((match.group(1), match.group(2)))
    return pins


def normalise(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def wheel_name_version(filename):
    """(normalised distribution name, version) of a wheel file name."""
    name, version = osp.basename(filename).split('-')[:2]
    return normalise(name), version


def download(pins, wheel_dir, python_version):
    """``pip download`` every pin (binary only, no dependencies) into ``wheel_dir``."""
    abi = 'cp' + python_version.replace('.', '')
    cmd = [sys.executable, '-m', 'pip', 'download', '--disable-pip-version-check', '-q',
           '--only-binary', ':all:', '--no-deps', '--python-version', python_version,
           '--implementation', 'cp', '--abi', abi, '--abi', 'abi3', '--abi', 'none',
           '-d', wheel_dir]
    for platform in PLATFORMS:
        cmd += ['--platform', platform]
    cmd += [f'{name}=={version}' for name, version in pins]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError('pip download failed:\n' + result.stderr[-3000:])


def check_wheels(pins, wheel_dir):
    """Exactly one wheel per pin, of that version, and nothing else."""
    found = {}
    for path in glob.glob(osp.join(wheel_dir, '*')):
        if not path.endswith('.whl'):
            raise RuntimeError(f'{path}: not a wheel (a source archive cannot be installed there)')
        name, version = wheel_name_version(path)
        if name in found:
            raise RuntimeError(f'{wheel_dir}: two wheels of {name}: {found[name]} and {path}')
        found[name] = path
    wanted = {normalise(name): version for name, version in pins}
    for name, version in wanted.items():
        if name not in found:
            raise RuntimeError(f'{wheel_dir}: no wheel of {name}=={version}')
        if wheel_name_version(found[name])[1] != version:
            raise RuntimeError(f'{found[name]}: version differs from the pin {name}=={version}')
    extra = sorted(set(found) - set(wanted))
    if extra:
        raise RuntimeError(f'{wheel_dir}: wheels not in requirements.txt: {extra}')
    return found


def build_sample(sample_dir, out_dir):
    """The builder's output for the sample at strength 8 (WholeBody face boxes)."""
    from rdid_mm.deid import build_deid_dataset
    ann = osp.join(sample_dir, 'annotations', 'test_coco.json')
    wholebody = osp.join(sample_dir, 'annotations', 'test_coco_wholebody.json')
    for path in (ann, wholebody, osp.join(sample_dir, 'val2017')):
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: missing (--sample-dir must be the COCO sample)')
    staging = tempfile.mkdtemp(prefix='deid_sample.', dir=osp.dirname(out_dir))
    try:
        build_deid_dataset(ann_file=ann, img_dir=osp.join(sample_dir, 'val2017'),
                           out_dir=osp.join(staging, 'out'), strengths=(8,),
                           face_sources=('wholebody',), wholebody_ann=wholebody, workers=0)
        shutil.rmtree(osp.join(staging, 'out', '.deid_state'), ignore_errors=True)
        if osp.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(osp.join(staging, 'out'), out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def folder_bytes(folder):
    return sum(osp.getsize(osp.join(root, name))
               for root, _, names in os.walk(folder) for name in names)


def tree_bytes(repo_root):
    """Bytes of what the device tool sends besides ``carry``: tracked + untracked-not-ignored."""
    result = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                            cwd=repo_root, capture_output=True, check=True)
    paths = {p for p in result.stdout.decode().split('\0') if p}
    return sum(osp.getsize(osp.join(repo_root, p)) for p in paths
               if osp.isfile(osp.join(repo_root, p)))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv=None):
    args = parse_args(argv)
    try:
        pins = read_requirements()
        wheel_dir = osp.join(args.carry, 'wheels')
        os.makedirs(args.carry, exist_ok=True)
        staging = tempfile.mkdtemp(prefix='wheels.', dir=args.carry)
        try:
            download(pins, staging, args.python_version)
            wheels = check_wheels(pins, staging)
            if osp.exists(wheel_dir):
                shutil.rmtree(wheel_dir)
            os.replace(staging, wheel_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not args.no_sample:
            build_sample(args.sample_dir, osp.join(args.carry, 'deid_sample'))
        wheels = {name: osp.join(wheel_dir, osp.basename(path)) for name, path in wheels.items()}
        manifest = dict(
            python_version=args.python_version, platforms=list(PLATFORMS),
            wheels=[dict(file=osp.basename(p), bytes=osp.getsize(p), sha256=sha256(p))
                    for _, p in sorted(wheels.items())],
            wheels_bytes=folder_bytes(wheel_dir), carry_bytes=folder_bytes(args.carry),
            tree_bytes=tree_bytes(REPO_ROOT) if osp.exists(osp.join(REPO_ROOT, '.git')) else None)
        total = manifest['carry_bytes'] + (manifest['tree_bytes'] or 0)
        manifest['total_bytes'] = total
        with open(osp.join(args.carry, 'MANIFEST.json.tmp'), 'w') as f:
            json.dump(manifest, f, indent=1)
        os.replace(osp.join(args.carry, 'MANIFEST.json.tmp'), osp.join(args.carry, 'MANIFEST.json'))
    except (OSError, RuntimeError, ValueError) as err:
        sys.exit(f'build_wheelhouse.py: error: {err}')
    mib = 2**20
    print(f'{len(wheels)} wheels: {manifest["wheels_bytes"] / mib:.1f} MiB; carry folder '
          f'{osp.relpath(args.carry, REPO_ROOT)}: {manifest["carry_bytes"] / mib:.1f} MiB; working '
          f'tree: {(manifest["tree_bytes"] or 0) / mib:.1f} MiB; total that travels: '
          f'{total / mib:.1f} MiB of {LIMIT_BYTES / mib:.0f} MiB')
    if total > LIMIT_BYTES:
        sys.exit(f'build_wheelhouse.py: error: {total / mib:.1f} MiB would travel, over the device '
                 f'tool\'s {LIMIT_BYTES / mib:.0f} MiB')


if __name__ == '__main__':
    main()
