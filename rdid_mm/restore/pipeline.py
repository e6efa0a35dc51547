"""Restore any input: a folder (recursively), an image, a video, a builder output or a COCO json.

Boxes come from ``--boxes boxes.json`` (as written by ``tools/locate_mosaics.py``), from a builder
output's ``faces.json``, or from the localiser. Every image becomes ``OUT/<relative path>.png``
(tagged, no metadata of the input), every video ``OUT/<relative stem>.mp4`` (or ``.mkv`` with
FFV1). ``OUT/summary.json`` counts restored, copied unchanged (no mosaic), failed and kept
(already there: an interrupted run resumes), with one message per problem; names in it are
relative to INPUT, so no input path leaves the machine with the outputs.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

from mmengine.logging import print_log

from rdid_mm.utils.io import (IMAGE_EXTENSIONS, ImageReadError, atomic_write, incomplete_image,
                              read_image, remove_staging_files)

from .localiser import locate_mosaics
from .media import write_png
from .regions import box_pixels, restore_regions, restore_whole
from .video import CODECS, is_video, restore_video

STATE_DIR = '.restore_state'


class RestoreInputError(ValueError):
    """A problem with the command's inputs that stops the run (one line, names the file)."""


# ---------------------------------------------------------------------------------- inputs
def list_inputs(input_path: str) -> List[Tuple[str, str]]:
    """``(relative name, path)`` of the images and videos under ``input_path`` (sorted)."""
    if osp.isfile(input_path):
        return [(osp.basename(input_path), input_path)]
    if not osp.isdir(input_path):
        raise RestoreInputError(f'{input_path}: no such file or folder')
    items = []
    for root, dirs, files in os.walk(input_path):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if name.startswith('.'):
                continue
            if name.lower().endswith(IMAGE_EXTENSIONS) or is_video(name):
                path = osp.join(root, name)
                items.append((osp.relpath(path, input_path).replace(os.sep, '/'), path))
    return items


def builder_boxes(input_path: str) -> Optional[Dict[str, list]]:
    """Boxes by relative name when ``input_path`` is a builder output (or one of its mosaic
    folders); ``None`` otherwise."""
    if not osp.isdir(input_path):
        return None
    root = None
    if osp.isfile(osp.join(input_path, 'faces.json')) and osp.isdir(osp.join(input_path, 'mosaic')):
        strengths = sorted(os.listdir(osp.join(input_path, 'mosaic')))
        if len(strengths) != 1:
            raise RestoreInputError(
                f'{input_path} is a builder output with mosaics {strengths}: give one of them as '
                f'--input, e.g. {osp.join(input_path, "mosaic", strengths[0])}')
        root, prefix = input_path, f'mosaic/{strengths[0]}/'
    else:
        parent = osp.dirname(osp.dirname(osp.abspath(input_path)))
        if (osp.basename(osp.dirname(osp.abspath(input_path))) == 'mosaic'
                and osp.isfile(osp.join(parent, 'faces.json'))):
            root, prefix = parent, ''
    if root is None:
        return None
    with open(osp.join(root, 'faces.json'), encoding='utf-8') as f:
        faces = json.load(f)
    by_stem = {osp.splitext(name)[0]: boxes for name, boxes in faces.items()}
    return {'prefix': prefix, 'by_stem': by_stem}


def load_boxes_file(path: str) -> Dict[str, list]:
    try:
        with open(path, encoding='utf-8') as f:
            boxes = json.load(f)
    except (OSError, ValueError) as err:
        raise RestoreInputError(f'{path}: not a readable boxes json ({err})') from None
    if not isinstance(boxes, dict) or not all(isinstance(v, list) for v in boxes.values()):
        raise RestoreInputError(f'{path}: expected {{relative_path: [[x, y, w, h, ...], ...]}}')
    return boxes


# ---------------------------------------------------------------------------------- state
class _State:
    """Settings of the run that made OUT, and a record per finished item (resume)."""

    def __init__(self, out_dir: str, settings: dict, overwrite: bool):
        self.dir = osp.join(out_dir, STATE_DIR)
        self.records_file = osp.join(self.dir, 'records.jsonl')
        settings_file = osp.join(self.dir, 'settings.json')
        previous = None
        if osp.isfile(settings_file):
            with open(settings_file, encoding='utf-8') as f:
                previous = json.load(f)
        has_files = osp.isdir(out_dir) and any(n != STATE_DIR for n in os.listdir(out_dir))
        self.records: Dict[str, dict] = {}
        if overwrite:
            if osp.isfile(self.records_file):
                os.remove(self.records_file)
        elif previous is not None and previous != settings:
            raise RestoreInputError(f'{out_dir} holds a restore made with other settings; pass '
                                    '--overwrite to replace it')
        elif previous is None and has_files:
            raise RestoreInputError(f'{out_dir} is not empty and was not written by restore; '
                                    'pass --overwrite to write into it')
        elif osp.isfile(self.records_file):
            with open(self.records_file, encoding='utf-8') as f:
                for line in f:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # the last line of an interrupted run
                    self.records[record['name']] = record
        os.makedirs(self.dir, exist_ok=True)
        atomic_write(settings_file, json.dumps(settings, sort_keys=True).encode())

    def add(self, record: dict) -> None:
        with open(self.records_file, 'a', encoding='utf-8') as f:
            f.write(json.dumps(record) + '\n')
            f.flush()
            os.fsync(f.fileno())


# ---------------------------------------------------------------------------------- run
def output_name(name: str, video_codec: str) -> str:
    stem = osp.splitext(name)[0]
    return stem + (CODECS[video_codec][1] if is_video(name) else '.png')


def restore_input(restorer, input_path: str, out_dir: str, boxes_file: Optional[str] = None,
                  whole_image: bool = False, ann_file: Optional[str] = None,
                  overwrite: bool = False, codec: str = 'h264', context: float = 0.5,
                  images_per_batch: int = 4) -> dict:
    """Restore ``input_path`` into ``out_dir``; returns (and writes) the summary.

    Args:
        restorer: a function restoring a list of uint8 RGB arrays (see
            :func:`rdid_mm.restore.generator.model_restorer`).
        input_path: a folder (searched recursively), an image or a video; with ``ann_file``,
            the folder the json's ``file_name``s are relative to.
        boxes_file: ``{relative_path: [[x, y, w, h, ...], ...]}``; video frames as
            ``name#000123``.
        whole_image: keep the generator's output everywhere (no boxes needed).
        ann_file: a COCO json: one PNG per listed image, and ``OUT/annotations/<json name>``
            pointing at them.
        overwrite: write into an ``out_dir`` that holds other files or another run's outputs.
        codec: ``h264`` or ``ffv1`` (lossless) for videos.
    """
    input_path, out_dir = os.fspath(input_path), os.fspath(out_dir)
    if not osp.exists(input_path):
        raise RestoreInputError(f'{input_path}: no such file or folder')
    if codec not in CODECS:
        raise RestoreInputError(f'--codec must be one of {sorted(CODECS)}, got {codec!r}')
    real_in, real_out = osp.realpath(input_path), osp.realpath(out_dir)
    if real_out == real_in or (osp.isdir(real_in) and real_out.startswith(real_in + os.sep)):
        raise RestoreInputError(f'--out {out_dir} must not be the input or inside it')
    coco = None
    if ann_file is not None:
        try:
            with open(ann_file, encoding='utf-8') as f:
                coco = json.load(f)
            items = [(img['file_name'], osp.join(input_path, img['file_name']))
                     for img in coco['images']]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RestoreInputError(f'{ann_file}: not a readable COCO json ({err})') from None
    else:
        items = list_inputs(input_path)
    if not items:
        raise RestoreInputError(f'{input_path}: no images or videos found')

    boxes_by_name, builder = None, None
    if boxes_file is not None:
        boxes_by_name = load_boxes_file(boxes_file)
        source = 'boxes_file'
    elif not whole_image and ann_file is None:
        builder = builder_boxes(input_path)
        source = 'builder' if builder else 'localiser'
    else:
        source = 'whole_image' if whole_image else 'localiser'
    settings = dict(input=hashlib.sha256(real_in.encode()).hexdigest()[:16],
                    boxes=source, boxes_file_sha=_sha(boxes_file), whole_image=whole_image,
                    ann_file_sha=_sha(ann_file), codec=codec, context=context)
    os.makedirs(out_dir, exist_ok=True)
    state = _State(out_dir, settings, overwrite)
    remove_staging_files(out_dir)  # what a killed run was writing (a video's encode, a PNG)
    summary = dict(restored=0, copied_unchanged=0, failed=0, kept=0, videos=0, boxes=0,
                   boxes_source=source, messages=[])

    def note(kind: str, name: str, message: str) -> None:
        summary['messages'].append(dict(kind=kind, file=name, message=message))
        print_log(f'{name}: {message}', logger='current', level=30)

    names = {name for name, _ in items}
    if boxes_by_name is not None:
        unmatched = sorted(k for k in boxes_by_name if k.split('#')[0] not in names)
        summary['boxes_unmatched'] = len(unmatched)
        if unmatched:
            note('boxes_unmatched', osp.basename(boxes_file),
                 f'{len(unmatched)} entries match no input (e.g. {unmatched[:3]})')

    def boxes_of(name: str, image) -> list:
        if whole_image:
            return []
        if boxes_by_name is not None:
            return [list(b[:4]) for b in boxes_by_name.get(name, [])]
        if builder is not None and '#' in name:  # a builder video: faces.json by frame index
            return [list(b[:4]) for b in builder['by_stem'].get(str(int(name.split('#')[1])), [])]
        if builder is not None:
            stem = osp.splitext(name[len(builder['prefix']):] if name.startswith(
                builder['prefix']) else name)[0]
            return [list(b[:4]) for b in builder['by_stem'].get(stem, [])]
        return [m.to_list()[:4] for m in locate_mosaics(image)]

    pending = []  # (name, target, image, boxes)

    def flush() -> None:
        if not pending:
            return
        with_boxes = [p for p in pending if p[3]]
        results = restore_regions([p[2] for p in with_boxes], [p[3] for p in with_boxes],
                                  restorer, context=context) if with_boxes else []
        restored = dict(zip([p[0] for p in with_boxes], results))
        for name, target, image, boxes in pending:
            out = restored.get(name, image)
            write_png(target, out)
            status = 'restored' if boxes else 'copied_unchanged'
            summary[status] += 1
            summary['boxes'] += len(boxes)
            state.add(dict(name=name, status=status, boxes=len(boxes)))
        pending.clear()

    written, owners = {}, {}
    for name, path in items:
        target = osp.join(out_dir, output_name(name, codec))
        written[name] = osp.relpath(target, out_dir).replace(os.sep, '/')
        if owners.setdefault(written[name], name) != name:
            note('failed', name, f'its output {written[name]} is also that of '
                 f'{owners[written[name]]}; rename one of them')
            summary['failed'] += 1
            continue
        record = state.records.get(name)
        if record is not None and osp.isfile(target) and not overwrite and (
                is_video(name) or _decodes(target)):
            summary['kept'] += 1
            continue
        if is_video(name):
            flush()
            try:
                result = _video(restorer, path, name, target, codec, whole_image,
                                boxes_by_name, boxes_of)
            except ValueError as err:
                note('failed', name, str(err).replace(path, name))
                summary['failed'] += 1
                continue
            summary['videos'] += 1
            summary['restored'] += 1
            summary.setdefault('video_results', {})[name] = result
            if result['frames'] != result['frames_in']:
                note('broken_frames', name, f"{result['frames_in']} frames counted, "
                     f"{result['frames']} decoded and restored")
            state.add(dict(name=name, status='restored'))
            continue
        try:
            image = read_image(path).rgb
        except ImageReadError as err:
            note('failed', name, f'{err.reason}: {err.detail}'.replace(path, name))
            summary['failed'] += 1
            continue
        if whole_image:
            write_png(target, restore_whole(image, restorer))
            summary['restored'] += 1
            state.add(dict(name=name, status='restored'))
            continue
        boxes = boxes_of(name, image)
        height, width = image.shape[:2]
        inside = [b for b in boxes if _nonempty(box_pixels(b, height, width))]
        if len(inside) < len(boxes):
            note('boxes_outside', name, f'{len(boxes) - len(inside)} boxes lie outside the '
                 f'{width}x{height} image; ignored')
        pending.append((name, target, image, inside))
        if len(pending) >= images_per_batch:
            flush()
    flush()
    if coco is not None:
        copy = dict(coco, images=[dict(img, file_name=written[img['file_name']])
                                  for img in coco['images']])
        atomic_write(osp.join(out_dir, 'annotations', osp.basename(ann_file)),
                     json.dumps(copy).encode())
    atomic_write(osp.join(out_dir, 'summary.json'), json.dumps(summary, indent=1).encode())
    print_log(f"restore: {summary['restored']} restored, {summary['copied_unchanged']} copied "
              f"unchanged (no mosaic), {summary['failed']} failed, {summary['kept']} already "
              f"there; boxes from {source}", logger='current')
    return summary


def _decodes(path: str) -> bool:
    """Whether a recorded output still decodes completely (not torn since it was written)."""
    problem = incomplete_image(path)
    if problem:
        print_log(f'{path}: not a complete output ({problem}); restoring it again',
                  logger='current', level=30)
    return problem is None


def _nonempty(pixels) -> bool:
    return pixels[2] > pixels[0] and pixels[3] > pixels[1]


def _sha(path: Optional[str]) -> Optional[str]:
    if path is None:
        return None
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def _video(restorer, path, name, target, codec, whole_image, boxes_by_name, boxes_of) -> dict:
    if boxes_by_name is not None:
        def frame_boxes(index, frame):
            return [list(b[:4]) for b in boxes_by_name.get(f'{name}#{index:06d}', [])]
    else:
        def frame_boxes(index, frame):
            return boxes_of(f'{name}#{index:06d}', frame)
    return restore_video(path, target, restorer, codec=codec, boxes_for_frame=frame_boxes,
                         whole_image=whole_image, restore_whole=restore_whole)


# ---------------------------------------------------------------------------------- locate
def locate_input(input_path: str) -> Iterator[Tuple[str, list]]:
    """``(key, [[x, y, w, h, block_size, score], ...])`` for every image and video frame."""
    from .video import read_video_frames
    for name, path in list_inputs(input_path):
        if is_video(name):
            for index, frame in enumerate(read_video_frames(path)):
                yield f'{name}#{index:06d}', [m.to_list() for m in locate_mosaics(frame)]
        else:
            try:
                image = read_image(path).rgb
            except ImageReadError as err:
                print_log(f'{name}: skipped: {err.reason}: {err.detail}', logger='current',
                          level=30)
                continue
            yield name, [m.to_list() for m in locate_mosaics(image)]
