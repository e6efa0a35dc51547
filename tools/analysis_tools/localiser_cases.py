"""A wider localiser evaluation: composite scenes pixelated five ways, a tuning set and an
evaluation set that share no image and no face.

    python tools/analysis_tools/localiser_cases.py [--sets tuning evaluation] [--out F.json]

Images: the ``tuning`` set (seed 0) has the four shared COCO photos (one of them is the demo's
``000000000785.jpg``) and scikit-image's coffee, rocket, camera, brick and text, with the even
LFW faces of ``skimage.data.lfw_subset`` and the sample's WholeBody face crops; the
``evaluation`` set (seed 1) has scikit-image's astronaut, chelsea, motorcycle (left), coins,
grass, gravel and page and matplotlib's grace_hopper (the other two demo portraits), with the odd
LFW faces and the demo's astronaut and Grace Hopper face crops. (The mmpose and mmdetection
wheels install no test images.) Decide localiser changes on ``tuning``; quote ``evaluation``.

Scenes per image (faces pasted with a feathered ellipse, then their boxes pixelated): ``photo``
(2-4 faces), ``crowd`` (16-32 faces of 15-53 px in the cells of a grid), ``adjacent`` (faces
touching), ``overlap`` (pairs overlapping by a fifth to a half), ``border`` (faces cut by the
image border), ``small`` (faces of 2-3 blocks), ``flat`` (faces on a solid or graded colour),
``detail`` (faces on fine texture), and two negatives, ``negative`` (the photo) and
``negative_faces`` (the crowd, unpixelated). Pixelators: the builder's function, deface's
``anonymize_frame`` (mosaic mode, mask scale 1.3; its detections are the face boxes shrunk so that
the drawn rectangle is about the face), OpenCV ``INTER_NEAREST`` and ``INTER_AREA`` down then
nearest up, Pillow (bilinear down, nearest up); each as PNG and after JPEG 95, 90, 75 and 60. One
block size per scene (4-16 px) for all pixelators; images at most 512 px a side.

Ground truth: the rectangles each pixelator changed (for deface, what it draws: see
``mosaic_reference``). Targets (IoU >= 0.5): rectangles of at least two blocks a side (deface:
at least 20 px and two whole squares a side); a detection of the enclosing box of mosaics that
touch or overlap also finds them. A detection is a false positive unless it matches some drawn
rectangle (any size) or such an enclosing box.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Sequence

import cv2
import numpy as np

from rdid_mm.deid.pixelate import pixelate_boxes
from rdid_mm.restore.localiser import locate_mosaics
from rdid_mm.utils.progress import ImageProgressBar

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling ground-truth module
from mosaic_reference import (  # noqa: E402
    deface_drawn,
    score_detections,
    union_of_overlapping,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SAMPLE = osp.join(osp.dirname(REPO), 'shared', 'data', 'coco_person_sample')
SETS = dict(
    tuning=dict(seed=0, lfw_parity=0,
                images=('coco:000000000785', 'coco:000000040083', 'coco:000000196141',
                        'coco:000000197388', 'skimage:coffee', 'skimage:rocket',
                        'skimage:camera', 'skimage:brick', 'skimage:text')),
    evaluation=dict(seed=1, lfw_parity=1,
                    images=('skimage:astronaut', 'skimage:chelsea', 'skimage:motorcycle_left',
                            'skimage:coins', 'skimage:grass', 'skimage:gravel', 'skimage:page',
                            'matplotlib:grace_hopper')))
SCENES = ('photo', 'crowd', 'adjacent', 'overlap', 'border', 'small', 'flat', 'detail')
NEGATIVES = ('negative', 'negative_faces')
PIXELATORS = ('builder', 'deface', 'cv_nearest', 'cv_area', 'pillow')
QUALITIES = (None, 95, 90, 75, 60)
BLOCK_SIZES = (4, 6, 8, 10, 12, 16)
MAX_SIDE = 512          # images are scaled down to this longest side
DEFACE_MASK_SCALE = 1.3  # deface's default
DEFACE_MIN_SIDE = 20    # the deface target: boxes of at least 20 px


# ----------------------------------------------------------------------------- sources
def _fit(image: np.ndarray) -> np.ndarray:
    image = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    image = np.ascontiguousarray(image[..., :3])
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def _read_rgb(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise FileNotFoundError(f'cannot read {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load_image(name: str, sample: str) -> Optional[np.ndarray]:
    """An image by ``source:name`` (``coco:`` the shared sample, ``skimage:``, ``matplotlib:``),
    scaled to at most ``MAX_SIDE``; ``None`` for a sample image that is not there."""
    source, stem = name.split(':')
    if source == 'coco':
        path = osp.join(sample, 'val2017', stem + '.jpg')
        return _fit(_read_rgb(path)) if osp.isfile(path) else None
    if source == 'skimage':
        import skimage.data
        if stem in ('motorcycle_left', 'motorcycle_right'):
            return _fit(skimage.data.stereo_motorcycle()[stem == 'motorcycle_right'])
        image = getattr(skimage.data, stem)()
        return _fit(image.astype(np.uint8) * 255 if image.dtype == bool else image)  # horse
    import matplotlib.cbook
    return _fit(_read_rgb(str(matplotlib.cbook.get_sample_data(stem + '.jpg',
                                                               asfileobj=False))))


def _crops(json_path: str, images: Dict[str, np.ndarray]) -> List[np.ndarray]:
    """Colour face crops (15% margin) of the valid WholeBody face boxes of ``images``."""
    if not osp.isfile(json_path):
        return []
    with open(json_path) as f:
        data = json.load(f)
    names = {i['id']: osp.splitext(i['file_name'])[0] for i in data['images']}
    out = []
    for ann in data['annotations']:
        image = images.get(names[ann['image_id']])
        if image is None or not ann.get('face_valid'):
            continue
        x, y, w, h = ann['face_box']
        m = 0.15 * max(w, h)
        x0, y0 = int(max(x - m, 0)), int(max(y - m, 0))
        out.append(image[y0:int(y + h + m), x0:int(x + w + m)].copy())
    return out


def face_sources(set_name: str, sample: str) -> List[np.ndarray]:
    """The set's faces: LFW faces of its parity (grey, tinted when pasted) and colour crops."""
    import matplotlib.cbook
    import skimage.data
    lfw = skimage.data.lfw_subset()[:100]  # the first 100 are faces
    faces = [(f * 255).astype(np.uint8) for f in lfw[SETS[set_name]['lfw_parity']::2]]
    if set_name == 'tuning':
        originals = {osp.splitext(n)[0]: _read_rgb(osp.join(sample, 'val2017', n))
                     for n in sorted(os.listdir(osp.join(sample, 'val2017')))
                     } if osp.isdir(osp.join(sample, 'val2017')) else {}
        faces += _crops(osp.join(sample, 'annotations', 'test_coco_wholebody.json'), originals)
    else:
        originals = dict(astronaut=skimage.data.astronaut(), grace_hopper=_read_rgb(str(
            matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))))
        faces += _crops(osp.join(REPO, 'demo', 'annotations', 'demo_wholebody.json'), originals)
    return faces


# ----------------------------------------------------------------------------- scenes
def pick_face(rng, faces, w: int, h: int) -> np.ndarray:
    face = faces[int(rng.integers(len(faces)))]
    if face.ndim == 2:  # LFW: grey, tinted with a skin tone
        tone = np.array([(224, 172, 138), (198, 134, 66), (141, 85, 36), (255, 219, 172)][
            int(rng.integers(4))], np.float32)
        face = np.clip(face[..., None].astype(np.float32) * tone / 160.0, 0, 255).astype(np.uint8)
    shrink = w < face.shape[1]
    return cv2.resize(face, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def paste_face(image: np.ndarray, face: np.ndarray, x: int, y: int) -> None:
    """Paste ``face`` at ``(x, y)`` through a feathered ellipse (clipped to the image), so the
    box edge is no pasted edge."""
    h, w = face.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 2), (max(w // 2 - 1, 1), max(h // 2 - 1, 1)), 0, 0, 360,
                1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.06 * min(w, h), 0.5))[..., None]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, image.shape[1]), min(y + h, image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    part = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = np.round(alpha[part] * face[part] + (1 - alpha[part]) * region)


def _free_spots(rng, shape, sizes, gap: int = 4, tries: int = 200) -> List[tuple]:
    """Non-overlapping boxes (``gap`` px apart) of ``sizes`` at random places inside ``shape``."""
    height, width = shape[:2]
    boxes = []
    for w, h in sizes:
        for _ in range(tries):
            if w >= width or h >= height:
                break
            x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            if all(x + w + gap <= bx or bx + bw + gap <= x or y + h + gap <= by
                   or by + bh + gap <= y for bx, by, bw, bh in boxes):
                boxes.append((x, y, w, h))
                break
    return boxes


def _sizes(rng, n: int, lo: int, hi: int) -> List[tuple]:
    sides = rng.integers(lo, hi + 1, n)
    return [(int(s), int(round(s * rng.uniform(1.0, 1.3)))) for s in sides]


def make_scene(scene: str, background: np.ndarray, faces, block: int, rng) -> tuple:
    """``(image, boxes)``: the scene with faces pasted and the ``(x, y, w, h)`` boxes to pixelate
    (may reach past the border; pixelators clip them)."""
    height, width = background.shape[:2]
    image = background.copy()
    if scene == 'flat':
        if rng.random() < 0.5:
            image[:] = rng.integers(30, 230, 3)
        else:
            ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
            a, b = rng.integers(30, 230, 3), rng.integers(30, 230, 3)
            image[:] = np.round(a + (b - a) * ramp).astype(np.uint8)
    elif scene == 'detail':
        noise = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.8) * 60
        image = np.clip(0.5 * image + 64 + noise, 0, 255).astype(np.uint8)
    if scene in ('photo', 'flat', 'detail'):
        boxes = _free_spots(rng, image.shape, _sizes(rng, int(rng.integers(2, 5)), 24, 96))
    elif scene in ('crowd', 'negative_faces'):
        cell = int(rng.integers(28, 57))
        boxes = []
        for y in range(2, height - cell, cell):
            for x in range(2, width - cell, cell):
                s = int(rng.integers(int(0.55 * cell), cell - 3))
                h = min(int(round(s * rng.uniform(1.0, 1.2))), cell - 3)
                boxes.append((x + int(rng.integers(0, cell - s - 2)),
                              y + int(rng.integers(0, cell - h - 2)), s, h))
        keep = rng.permutation(len(boxes))[:int(rng.integers(16, 33))]
        boxes = [boxes[i] for i in sorted(keep)]
    elif scene == 'adjacent':
        boxes = []
        for group in _free_spots(rng, image.shape, [(140, 140)] * 3, gap=8):
            s = int(rng.integers(28, 65))
            layout = [(0, 0), (1, 0), (0, 1), (1, 1)] if rng.random() < 0.5 else [
                (0, 0), (1, 0), (2, 0)]
            boxes += [(group[0] + i * s, group[1] + j * s, s, s) for i, j in layout
                      if (i + 1) * s <= 140 and (j + 1) * s <= 140]
    elif scene == 'overlap':
        boxes = []
        for x, y, _, _ in _free_spots(rng, image.shape, [(150, 150)] * 3, gap=8):
            s = int(rng.integers(32, 73))
            shift = int(round(s * rng.uniform(0.5, 0.8)))
            dx, dy = (shift, int(rng.integers(0, s // 3))) if rng.random() < 0.5 else (
                int(rng.integers(0, s // 3)), shift)
            boxes += [(x, y, s, s), (x + dx, y + dy, s, s)]
    elif scene == 'border':
        boxes = []
        for side in range(4):
            s = int(rng.integers(32, 97))
            cut = int(round(s * rng.uniform(0.3, 0.7)))
            along = int(rng.integers(0, max((width if side < 2 else height) - s, 1)))
            boxes.append([(along, -cut, s, s), (along, height - s + cut, s, s),
                          (-cut, min(along, height - s), s, s),
                          (width - s + cut, min(along, height - s), s, s)][side])
    elif scene == 'small':
        sizes = []
        for _ in range(int(rng.integers(4, 8))):
            k = int(rng.integers(2, 4))
            sizes.append((k * block - int(rng.integers(0, block // 2 + 1)),) * 2)
        boxes = _free_spots(rng, image.shape, sizes, gap=6)
    else:  # negative: the photo as it is
        return image, []
    for x, y, w, h in boxes:
        paste_face(image, pick_face(rng, faces, w, h), x, y)
    return image, [tuple(int(v) for v in b) for b in boxes]


# ----------------------------------------------------------------------------- pixelators
def _clip(box, shape):
    x, y, w, h = box
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, shape[1]), min(y + h, shape[0])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def _resize_pixelate(image, boxes, block, down: str):
    """OpenCV (``INTER_NEAREST``/``INTER_AREA`` down) or Pillow (bilinear down), nearest up;
    each box from the original pixels. Returns the image and ``(x, y, w, h, pitch, nx, ny)``."""
    from PIL import Image
    out = image.copy()
    drawn = []
    for box in boxes:
        clipped = _clip(box, image.shape)
        if clipped is None:
            continue
        x, y, w, h = clipped
        region = image[y:y + h, x:x + w]
        if down == 'pillow':
            nx, ny = max(1, round(w / block)), max(1, round(h / block))
            small = Image.fromarray(region).resize((nx, ny), Image.BILINEAR)
            out[y:y + h, x:x + w] = np.asarray(small.resize((w, h), Image.NEAREST))
        else:
            nx, ny = math.ceil(w / block), math.ceil(h / block)
            small = cv2.resize(region, (nx, ny), interpolation=dict(
                cv_nearest=cv2.INTER_NEAREST, cv_area=cv2.INTER_AREA)[down])
            out[y:y + h, x:x + w] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        drawn.append((x, y, w, h, (w / nx + h / ny) / 2, nx, ny))
    return out, drawn


def _builder(image, boxes, block):
    out = pixelate_boxes(image, [(x, y, x + w, y + h) for x, y, w, h in boxes], block)
    drawn = []
    for box in boxes:
        clipped = _clip(box, image.shape)
        if clipped is not None:
            x, y, w, h = clipped
            nx, ny = math.ceil(w / block), math.ceil(h / block)
            drawn.append((x, y, w, h, (w / nx + h / ny) / 2, nx, ny))
    return out, drawn


def _deface(image, boxes, block):
    """deface's own drawing, fed detections that its mask scale grows back to about the box."""
    from deface.deface import anonymize_frame
    height, width = image.shape[:2]
    dets, drawn = [], []
    for x, y, w, h in boxes:
        cx, cy, f = x + w / 2, y + h / 2, 0.5 / (1 + 2 * (DEFACE_MASK_SCALE - 1))
        det = np.array([cx - w * f, cy - h * f, cx + w * f, cy + h * f, 0.9], np.float32)
        rect = deface_drawn(det, height, width, DEFACE_MASK_SCALE, block)
        if rect is not None:
            dets.append(det)
            rect_w, rect_h = rect[2], rect[3]
            drawn.append(rect + (float(block), rect_w // block, rect_h // block))
    out = image.copy()
    if dets:
        anonymize_frame(np.stack(dets), out, mask_scale=DEFACE_MASK_SCALE, replacewith='mosaic',
                        ellipse=False, draw_scores=False, replaceimg=None, mosaicsize=block)
    return out, drawn


def pixelate(name: str, image, boxes, block):
    """``(image, drawn)`` of pixelator ``name``; drawn: ``(x, y, w, h, pitch, nx, ny)``."""
    if name == 'builder':
        return _builder(image, boxes, block)
    if name == 'deface':
        return _deface(image, boxes, block)
    return _resize_pixelate(image, boxes, block, name)


def jpeg(rgb: np.ndarray, quality: Optional[int]) -> np.ndarray:
    if quality is None:
        return rgb
    ok, data = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def is_target(pixelator: str, rect) -> bool:
    """Boxes the targets count: two blocks a side; deface also at least 20 px a side."""
    x, y, w, h, pitch, nx, ny = rect
    if pixelator == 'deface':
        return min(w, h) >= DEFACE_MIN_SIDE and min(nx, ny) >= 2
    return min(nx, ny) >= 2


def _touching_unions(rects) -> list:
    """For each rectangle, the enclosing box of the rectangles touching or overlapping it
    (``None`` if it stands alone)."""
    grown = [(x - 1, y - 1, w + 2, h + 2) for x, y, w, h, *_ in rects]
    groups = union_of_overlapping(grown)
    out = []
    for g in grown:
        group = next(u for u in groups if u[0] <= g[0] and u[1] <= g[1]
                     and g[0] + g[2] <= u[0] + u[2] and g[1] + g[3] <= u[1] + u[3])
        same = (group[2] == g[2] and group[3] == g[3])
        out.append(None if same else (group[0] + 1, group[1] + 1, group[2] - 2, group[3] - 2))
    return out


# ----------------------------------------------------------------------------- cases
def iter_cases(set_name: str, sample: str = DEFAULT_SAMPLE, pixelators=PIXELATORS,
               qualities=QUALITIES, scenes=SCENES + NEGATIVES,
               images: Optional[Sequence[str]] = None) -> Iterator[dict]:
    """The set's cases, deterministic for a given set: dicts with ``name``, ``set``,
    ``image_name``, ``scene``, ``pixelator`` (``none`` for negatives), ``quality``, ``block``,
    ``image``, ``drawn``, ``targets``, ``target_unions``, ``allowed``."""
    spec = SETS[set_name]
    faces = face_sources(set_name, sample)
    for image_name in images or spec['images']:
        # the image's place in its set, so a subset gives the same cases
        index = list(spec['images']).index(image_name)
        background = load_image(image_name, sample)
        if background is None:
            continue
        for scene_index, scene in enumerate(SCENES + NEGATIVES):
            if scene not in scenes:
                continue
            rng = np.random.default_rng([spec['seed'], index, scene_index])
            block = int(rng.choice(BLOCK_SIZES[1:] if scene == 'small' else BLOCK_SIZES))
            composite, boxes = make_scene(scene, background, faces, block, rng)
            for pixelator in (('none', ) if scene in NEGATIVES else pixelators):
                if pixelator == 'none':
                    mosaic, drawn = composite, []
                else:
                    mosaic, drawn = pixelate(pixelator, composite, boxes, block)
                unions = _touching_unions(drawn)
                chosen = [i for i, r in enumerate(drawn) if is_target(pixelator, r)]
                allowed = [r[:4] for r in drawn] + [u for u in unions if u is not None]
                for quality in qualities:
                    yield dict(
                        name=f'{set_name}/{image_name} {scene} {pixelator} S{block} q{quality}',
                        set=set_name, image_name=image_name, scene=scene, pixelator=pixelator,
                        quality=quality, block=block, image=jpeg(mosaic, quality), drawn=drawn,
                        targets=[tuple(drawn[i][:5]) for i in chosen],
                        target_unions=[unions[i] for i in chosen], allowed=allowed)


def count_cases(set_name: str, pixelators=PIXELATORS, qualities=QUALITIES,
                scenes=SCENES + NEGATIVES, images: Optional[Sequence[str]] = None) -> int:
    """How many cases :func:`iter_cases` yields (fewer if an image cannot be loaded)."""
    per_image = (sum(s in scenes for s in SCENES) * len(pixelators)
                 + sum(s in scenes for s in NEGATIVES))
    return len(images or SETS[set_name]['images']) * per_image * len(qualities)


def run_set(set_name: str, sample: str = DEFAULT_SAMPLE, locate=locate_mosaics,
            progress: bool = False, **kwargs) -> List[dict]:
    """Localise every case of the set: per case its keys, ``found`` and the seconds it took
    (images dropped); ``progress``: cases done, cases/s and ETA on stderr."""
    bar = ImageProgressBar(count_cases(set_name, **kwargs), file=sys.stderr, unit='cases',
                           label=f'{set_name}: ') if progress else None
    results = []
    for case in iter_cases(set_name, sample, **kwargs):
        image = case.pop('image')
        start = time.perf_counter()
        case['found'] = [m.to_list() for m in locate(image)]
        case['seconds'] = time.perf_counter() - start
        results.append(case)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.finish()
    return results


TARGETS = (  # (row name, which cases, figure, goal)
    ('builder >= 2 blocks: recall', lambda c: c['pixelator'] == 'builder', 'recall', 0.95),
    ('deface >= 20 px: recall', lambda c: c['pixelator'] == 'deface', 'recall', 0.90),
    ('all cases: precision', lambda c: True, 'precision', 0.90),
)


def _figures(cases: Sequence[dict]) -> dict:
    s = score_detections(cases)
    return dict(targets=s['targets'], hits=s['hits'], recall=s['recall'], found=s['found'],
                true_found=s['true_found'], precision=s['precision'],
                block_accuracy=s['block_accuracy'], cases=len(cases),
                seconds_per_image=float(np.mean([c['seconds'] for c in cases]))
                if cases and 'seconds' in cases[0] else float('nan'))


def summary(results: Sequence[dict]) -> Dict[str, dict]:
    """The three target rows: figures, goal and whether it is met."""
    out = {}
    for name, keep, figure, goal in TARGETS:
        f = _figures([c for c in results if keep(c)])
        out[name] = dict(f, figure=figure, goal=goal, met=bool(f[figure] >= goal))
    return out


def table(results: Sequence[dict], by=('pixelator', 'quality', 'scene')) -> List[dict]:
    """Per-case rows: figures of every group of ``by``."""
    groups = defaultdict(list)
    for c in results:
        groups[tuple(c[k] for k in by)].append(c)
    order = dict(pixelator={p: i for i, p in enumerate(PIXELATORS + ('none', ))},
                 quality={q: i for i, q in enumerate(QUALITIES)},
                 scene={s: i for i, s in enumerate(SCENES + NEGATIVES)})
    keys = sorted(groups, key=lambda k: [order.get(b, {}).get(v, v) for b, v in zip(by, k)])
    return [dict(zip(by, k), **_figures(groups[k])) for k in keys]


def _fmt(v) -> str:
    return '-' if v is None or (isinstance(v, float) and math.isnan(v)) else (
        f'{v:.3f}' if isinstance(v, float) else str(v))


def format_table(rows: Sequence[dict], by=('pixelator', 'quality', 'scene')) -> str:
    cols = list(by) + ['targets', 'recall', 'found', 'precision']
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for r in rows:
        lines.append('| ' + ' | '.join(_fmt(r[c]) if c not in by else
                                       ('png' if c == 'quality' and r[c] is None else str(r[c]))
                                       for c in cols) + ' |')
    return '\n'.join(lines)


def format_summary(rows: Dict[str, dict]) -> str:
    lines = ['| target | boxes / detections | figure | goal | met |', '|---|---|---|---|---|']
    for name, r in rows.items():
        n = r['targets'] if r['figure'] == 'recall' else r['found']
        lines.append(f"| {name} | {n} | {r[r['figure']]:.3f} | {r['goal']:.2f} | "
                     f"{'yes' if r['met'] else 'no'} |")
    return '\n'.join(lines)


def report(set_name: str, results: Sequence[dict], full: bool = True) -> str:
    """The set's tables: per pixelator and quality, per scene, per case, and the targets."""
    parts = [f'## {set_name} set: {len(results)} cases, '
             f'{np.mean([c["seconds"] for c in results]):.3f} s/img localiser',
             format_table(table(results, ('pixelator', 'quality')), ('pixelator', 'quality')),
             format_table(table(results, ('scene', )), ('scene', ))]
    if full:
        parts.append(format_table(table(results)))
    parts.append(format_summary(summary(results)))
    return '\n\n'.join(parts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sets', nargs='+', default=['tuning', 'evaluation'], choices=SETS)
    parser.add_argument('--sample', default=os.environ.get('RDID_SAMPLE', DEFAULT_SAMPLE))
    parser.add_argument('--brief', action='store_true', help='no per pixelator/quality/scene table')
    parser.add_argument('--out', help='also write the figures as json')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = {}
    for set_name in args.sets:
        results = run_set(set_name, args.sample, progress=True)
        print(report(set_name, results, full=not args.brief), flush=True)
        out[set_name] = dict(summary=summary(results), table=table(results))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == '__main__':
    main()
