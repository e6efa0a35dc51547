"""The demo's measurements and pictures: per-face scores of the mosaic and the restoration against
the original, kept apart for the faces the model trained on and the held-out ones; the grid; the
training-loss curve.

``tools/demo.py`` runs the steps (de-identify, train, restore) and calls these on their outputs.
"""
import json
import math
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from rdid_mm.evaluation.face_quality import mean_psnr
from rdid_mm.layout import DeidLayout, restored_path
from rdid_mm.privacy.audit_rows import Row
from rdid_mm.utils.boxes import box_to_slices
from rdid_mm.utils.io import read_rgb, save_figure, write_image

from .face_model_columns import face_model_scores
from .qualitative_grid import hstack_panels, label_strip, vstack_rows

HELD_OUT_COLOUR = (220, 40, 40)


def face_scores(layout: DeidLayout, strength: int, restored_dirs: Dict[str, str],
                held_out: Sequence[str]) -> List[dict]:
    """PSNR and L1 (mean absolute error, 0..255) of mosaic and restored faces against the original.

    Faces are the dataset's ``faces.json`` boxes; restorations are read from
    ``restored_dirs[file name]`` (``rdid_mm.layout.restored_path``); ``held_out`` names the images
    the model never trained on.
    """
    faces = {name: boxes for name, boxes in layout.faces().items() if boxes}
    rows = []
    for name in sorted(faces):
        gt = read_rgb(layout.gt(name))
        mosaic = read_rgb(layout.mosaic(name, strength))
        restored = read_rgb(restored_path(restored_dirs[name], name))
        for box in faces[name]:
            rows_, cols = box_to_slices(box, *gt.shape[:2])
            ref = gt[rows_, cols].astype(np.float64)
            if ref.size == 0:
                continue
            row = dict(file_name=name, restored_dir=restored_dirs[name],
                       box=[float(v) for v in box[:4]],
                       size=int(round(min(box[2], box[3]))), held_out=name in held_out)
            for label, image in (('mosaic', mosaic), ('restored', restored)):
                diff = image[rows_, cols].astype(np.float64) - ref
                mse = float(np.mean(diff**2))
                row[f'{label}_L1'] = float(np.mean(np.abs(diff)))
                row[f'{label}_PSNR'] = math.inf if mse == 0 else 10 * math.log10(255**2 / mse)
            rows.append(row)
    return rows


def summarize_face_scores(rows: Sequence[dict]) -> Dict[str, dict]:
    """Mean PSNR (capped at ``PSNR_CAP_DB``: identical faces count) and L1 of each version, for
    the trained-on faces and for the held-out ones."""
    summary = {}
    for group, held in (('trained', False), ('held_out', True)):
        chosen = [r for r in rows if r['held_out'] == held]
        entry = dict(faces=len(chosen))
        for key in ('mosaic_PSNR', 'restored_PSNR'):
            entry[key] = mean_psnr([r[key] for r in chosen])
        for key in ('mosaic_L1', 'restored_L1'):
            entry[key] = float(np.mean([r[key] for r in chosen])) if chosen else math.nan
        summary[group] = entry
    return summary


def _zoom(image: np.ndarray, box: Sequence[float], size: int) -> np.ndarray:
    """The face with a quarter of its size as context, enlarged to ``size`` (blocks kept sharp)."""
    x, y, w, h = box[:4]
    side = max(w, h) * 1.5
    square = [x + w / 2 - side / 2, y + h / 2 - side / 2, side, side]
    rows, cols = box_to_slices(square, *image.shape[:2])
    return cv2.resize(image[rows, cols], (size, size), interpolation=cv2.INTER_NEAREST)


def face_grid(rows: Sequence[dict], layout: DeidLayout, strength: int, out_file: str,
              zoom_size: int = 160, max_faces: int = 8) -> str:
    """One row per face (largest first): mosaic | restored | original, the held-out ones marked."""
    chosen = sorted(rows, key=lambda r: (not r['held_out'], -r['size']))[:max_faces]
    header = hstack_panels([label_strip(label, zoom_size)
                      for label in ('mosaic', 'restored', 'original')])
    lines = [header]
    for row in chosen:
        name = row['file_name']
        images = [read_rgb(layout.mosaic(name, strength)),
                  read_rgb(restored_path(row['restored_dir'], name)),
                  read_rgb(layout.gt(name))]
        panels = [_zoom(image, row['box'], zoom_size) for image in images]
        caption = (f"{row['file_name']} face {row['size']} px: PSNR {row['mosaic_PSNR']:.1f} -> "
                   f"{row['restored_PSNR']:.1f} dB")
        if row['held_out']:
            caption = 'HELD OUT (never trained on) ' + caption
            for panel in panels:
                cv2.rectangle(panel, (0, 0), (zoom_size - 1, zoom_size - 1), HELD_OUT_COLOUR, 3)
        strip = hstack_panels(panels)
        lines += [_caption_strip(caption, strip.shape[1], row['held_out']), strip]
    write_image(vstack_rows(lines), out_file)
    return out_file


def _caption_strip(text: str, width: int, held_out: bool) -> np.ndarray:
    strip = np.full((22, width, 3), 255, np.uint8)
    colour = HELD_OUT_COLOUR if held_out else (0, 0, 0)
    cv2.putText(strip, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    return strip


def read_training_losses(scalars_file: str) -> Dict[str, List[tuple]]:
    """``{loss name: [(iteration, value), ...]}`` from MMEngine's ``vis_data/scalars.json``."""
    losses: Dict[str, List[tuple]] = {}
    with open(scalars_file) as f:
        for line in f:
            record = json.loads(line)
            if 'iter' not in record:
                continue
            for key, value in record.items():
                if key.startswith('loss') or key in ('dist_loss', 'cycle_loss'):
                    losses.setdefault(key, []).append((record['iter'], float(value)))
    if not losses:
        raise ValueError(f'{scalars_file}: no training losses logged')
    return losses


def plot_training_losses(scalars_file: str, out_file: str) -> str:
    """The generator's paired L1, cycle and adversarial losses and the discriminators' over time."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    losses = read_training_losses(scalars_file)
    figure, axis = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for name, points in sorted(losses.items()):
        iters, values = zip(*points)
        axis.plot(iters, values, label=name)
    axis.set_xlabel('iteration')
    axis.set_ylabel('loss (weighted)')
    axis.set_yscale('log')
    axis.grid(alpha=0.3)
    axis.legend(fontsize='small')
    save_figure(figure, out_file, dpi=110)
    plt.close(figure)
    return out_file


def format_face_table(summary: Dict[str, dict]) -> str:
    """The demo's table: mosaic against restored, trained-on and held-out faces in separate rows."""
    lines = ['| faces | n | mosaic PSNR | restored PSNR | mosaic L1 | restored L1 |',
             '|---|---|---|---|---|---|']
    for group, label in (('trained', 'trained on'), ('held_out', 'held out (never seen)')):
        s = summary[group]
        lines.append(f"| {label} | {s['faces']} | {s['mosaic_PSNR']:.2f} | "
                     f"{s['restored_PSNR']:.2f} | {s['mosaic_L1']:.2f} | {s['restored_L1']:.2f} |")
    return '\n'.join(lines)


FACE_GROUPS = (('trained', 'trained on'), ('held_out', 'held out'))


def face_model_table(layout: DeidLayout, strength: int, restored_dirs: Dict[str, str],
                     held_out: Sequence[str], detections=None,
                     audit=None) -> Tuple[List[dict], str]:
    """Table 1's face-model columns (CenterFace recall, landmark error, identity top-1) of the
    mosaic and the restored faces, trained-on and held-out faces apart.

    Reuses :func:`~rdid_mm.reports.face_model_columns.face_model_scores`, one CenterFace detector
    and one identity gallery (every original) for all rows. Returns the rows and their markdown.
    """
    names = sorted(name for name, boxes in layout.faces().items() if boxes)
    rows, specs = [], []
    for group, label in FACE_GROUPS:
        chosen = {name for name in names if (name in held_out) == (group == 'held_out')}
        if not chosen:
            continue
        for version in ('mosaic', 'restored'):
            def path_for(name, chosen=chosen, version=version):
                if name not in chosen:
                    return None
                return (layout.mosaic(name, strength) if version == 'mosaic' else
                        restored_path(restored_dirs[name], name))
            specs.append(Row(f'{version} s{strength}', version, path_for, strength))
            rows.append(dict(row=version, faces=group, faces_label=label))
    scores = face_model_scores(layout, specs, detections, audit) if specs else []
    for row, row_scores in zip(rows, scores):
        row.update(row_scores)
    lines = ['| row | faces | n | CenterFace recall | landmark err | identity top-1 (chance) |',
             '|---|---|---|---|---|---|']
    for row in rows:
        lines.append(
            f"| {row['row']} s{strength} | {row['faces_label']} | {row['centerface_faces']} | "
            f"{_pct(row['centerface_recall'])} | {_num(row['landmark_error'])} | "
            f"{_pct(row['identity_top1'])} ({_pct(row['identity_chance'])}) |")
    return rows, '\n'.join(lines)


def _pct(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{100 * value:.1f}%'


def _num(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{value:.3f}'
