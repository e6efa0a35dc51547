"""Fixtures for the restore tests: mosaics made by the builder and by the deface CLI."""
import glob
import json
import os.path as osp
import subprocess
import sys

import cv2
import pytest

from tests.helpers import load_tool

BUILDER_STRENGTHS = (4, 6, 8, 12, 16)   # 8 and 16 straight from the builder, the rest copies
JPEG_QUALITIES = (None, 90, 75, 60)
DEFACE_MOSAIC_SIZES = (20, 10)


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION),
                        cv2.COLOR_BGR2RGB)


def jpeg(rgb, quality):
    ok, data = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope='session')
def builder_cases(deid_sample):
    """Localiser cases from the builder's output of the sample: ``{quality: [case, ...]}``.

    Strengths 8 and 16 are the builder's own mosaics; 4, 6 and 12 pixelate its ``gt/`` images
    in its ``faces.json`` boxes with the builder's function. Targets carry the effective pitch.
    """
    from rdid_mm.deid.pixelate import pixelate_boxes
    builder_block_size = load_tool('analysis_tools/mosaic_reference').builder_block_size
    with open(osp.join(deid_sample, 'faces.json')) as f:
        faces = json.load(f)
    cases = {q: [] for q in JPEG_QUALITIES}
    for file_name, boxes in sorted(faces.items()):
        stem = osp.splitext(file_name)[0]
        original = read_rgb(osp.join(deid_sample, 'gt', file_name))
        for strength in BUILDER_STRENGTHS:
            built = osp.join(deid_sample, 'mosaic', f's{strength}', stem + '.png')
            if osp.isfile(built):
                mosaic = read_rgb(built)
            else:
                mosaic = pixelate_boxes(
                    original, [(x, y, x + w, y + h) for x, y, w, h, *_ in boxes], strength)
            targets = [(x, y, w, h, builder_block_size(w, h, strength))
                       for x, y, w, h, *_ in boxes]
            for quality in JPEG_QUALITIES:
                image = mosaic if quality is None else jpeg(mosaic, quality)
                cases[quality].append(dict(name=f'{stem} s{strength} q{quality}', image=image,
                                           targets=targets))
    assert sum(len(c['targets']) for c in cases[None]) == 4 * len(BUILDER_STRENGTHS)
    return cases


@pytest.fixture(scope='session')
def deface_cases(tmp_path_factory, sample_img_dir):
    """Images pixelated by the ``deface`` CLI (``--replacewith mosaic``, mosaic sizes 20 and 10)
    from PNG copies of the sample at 1x and 2x, with the rectangles deface draws."""
    from deface.centerface import CenterFace

    deface_rectangles = load_tool('analysis_tools/mosaic_reference').deface_rectangles
    exe = osp.join(osp.dirname(sys.executable), 'deface')
    if not osp.isfile(exe):
        pytest.fail(f'the deface CLI is missing beside {sys.executable}')
    centerface = CenterFace(in_shape=None, backend='auto')
    cases = []
    for size in DEFACE_MOSAIC_SIZES:
        folder = tmp_path_factory.mktemp(f'deface_m{size}')
        rects = {}
        for path in sorted(glob.glob(osp.join(sample_img_dir, '*.jpg'))):
            photo = read_rgb(path)
            for scale in (1, 2):
                image = photo if scale == 1 else cv2.resize(photo, None, fx=2, fy=2,
                                                            interpolation=cv2.INTER_CUBIC)
                stem = f'{osp.splitext(osp.basename(path))[0]}_x{scale}'
                cv2.imwrite(str(folder / f'{stem}.png'), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                rects[stem] = deface_rectangles(image, centerface=centerface)
        subprocess.run([exe, str(folder), '--replacewith', 'mosaic', '--mosaicsize', str(size),
                        '--boxes'], check=True, capture_output=True)
        for stem, drawn in rects.items():
            out = folder / f'{stem}_anonymized.png'
            assert out.is_file(), f'deface wrote no {out}'
            cases.append(dict(name=f'{stem} m{size}', image=read_rgb(str(out)), drawn=drawn,
                              size=size))
    return cases
