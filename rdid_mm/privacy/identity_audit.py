"""Identity leakage: is the person still the nearest original to their own pixelated or restored
face, among a gallery of other people's faces?

A distance threshold alone misleads here: small, blurred faces all drift toward an average
embedding, so every mosaic of a small face lies "close" to every original. The audit therefore
ranks: for each face of a row, the distance from its embedding to every gallery face (the
embeddable originals of the dataset, plus an optional folder of other people), and the rank of its
own original among them. Top-1 and top-5 rates are compared with chance (1 / gallery size and
5 / gallery size), by face-size bucket, with bootstrap intervals over faces; the distance to the
own original and the share below the embedder's same-person threshold are reported beside them.
"""
import math
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set

import numpy as np
from mmengine.logging import print_log

from rdid_mm.evaluation.bootstrap import percentile_interval, resample_weights
from rdid_mm.layout import DeidLayout
from rdid_mm.utils.io import read_rgb
from rdid_mm.utils.progress import ImageProgressBar

from .audit_rows import IMAGE_EXTENSIONS, Face, Row, dataset_faces, parse_row
from .embedders import BaseEmbedder, build_embedder

DEFAULT_BUCKETS = (24.0, 32.0, 48.0, 96.0)  # face-size bucket edges, pixels (sqrt(w * h))


def size_bucket(size: float, edges: Sequence[float]) -> str:
    """``'24-32'``-style label of the bucket holding ``size`` (the last one is open: ``'>=96'``)."""
    if size < edges[0]:
        return f'<{edges[0]:g}'
    for low, high in zip(edges, edges[1:]):
        if size < high:
            return f'{low:g}-{high:g}'
    return f'>={edges[-1]:g}'


@dataclass
class FaceResult:
    """One face of one row."""
    row: str
    face: Face
    bucket: str
    split: str
    distance: float  # to the face's own original
    rank: int  # of the own original among the gallery (1: nearest)
    nearest: str  # gallery entry nearest to this face

    @property
    def top1(self) -> bool:
        return self.rank == 1

    @property
    def top5(self) -> bool:
        return self.rank <= 5


@dataclass
class Gallery:
    """Embeddings of the originals (the probes' own identities first) and of extra faces."""
    vectors: np.ndarray
    labels: List[str]
    num_dataset_faces: int

    @property
    def size(self) -> int:
        return len(self.labels)


def _label(face: Face) -> str:
    return f'{face.file_name}#{face.index}'


class IdentityAudit:
    """The gallery of one de-identified dataset, against which rows are scored.

    Args:
        deid_dir: the builder's output folder (``gt/`` must be there: the originals).
        embedder: a registered name, config dict or instance (default: dlib).
        gallery_dir: an optional folder of photographs of other people; the embedder finds their
            faces and adds them to the gallery as distractors (a harder, more realistic test).
        align: ``'own'``: every image is aligned with the landmarks the embedder finds in it (an
            attacker's view); ``'original'``: with those found in the original (isolates what
            the pixels still say from alignment errors on blurred faces).
        train_ids: image ids of a model's training split; faces are then labelled ``train`` or
            ``held-out`` (the memorisation split), otherwise ``all``.
    """

    def __init__(self, deid_dir: str, embedder=None, gallery_dir: Optional[str] = None,
                 align: str = 'own', train_ids: Optional[Iterable[int]] = None,
                 buckets: Sequence[float] = DEFAULT_BUCKETS, gt_dir: Optional[str] = None,
                 ann_file: Optional[str] = None, progress: bool = False):
        if align not in ('own', 'original'):
            raise ValueError(f"align must be 'own' or 'original', got {align!r}")
        self.layout = DeidLayout.existing(deid_dir, gt_dir=gt_dir, ann_file=ann_file)
        if not osp.isdir(self.layout.gt_dir):
            raise FileNotFoundError(f'the originals are missing: {self.layout.gt_dir} (a dataset '
                                    'built with --publish cannot be audited)')
        self.embedder: BaseEmbedder = build_embedder(embedder)
        self.align = align
        self.train_ids: Optional[Set[int]] = None if train_ids is None else {
            int(i) for i in train_ids}
        self.buckets = tuple(float(b) for b in buckets)
        if self.buckets[0] < self.embedder.min_face_size:
            self.buckets = (self.embedder.min_face_size, ) + tuple(
                b for b in self.buckets if b > self.embedder.min_face_size)
        found = dataset_faces(self.layout, self.embedder.min_face_size)
        self.faces: List[Face] = found['embeddable']
        self.too_small: List[Face] = found['too_small']
        self.gallery_dir = gallery_dir
        self._landmarks: Dict[str, np.ndarray] = {}
        self._gallery: Optional[Gallery] = None
        self.skipped: Dict[str, int] = {}
        self.progress = progress  # images done, images/s and ETA on stdout (dlib: ~1 s a face)

    # -- the gallery ---------------------------------------------------------------------------
    @property
    def gallery(self) -> Gallery:
        if self._gallery is None:
            self._gallery = self._build_gallery()
        return self._gallery

    def _build_gallery(self) -> Gallery:
        vectors, labels = [], []
        by_image = self._by_image(self.faces)
        bar = self._bar(len(by_image), 'gallery (originals) ')
        for file_name, faces in by_image.items():
            image = read_rgb(self.layout.gt(file_name))
            for face in faces:
                points = self.embedder.landmarks(image, face.box)
                if points is not None:
                    self._landmarks[_label(face)] = points
                vectors.append(self.embedder.embed(image, face.box, points))
                labels.append(_label(face))
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.finish()
        num_dataset = len(labels)
        if self.gallery_dir:
            extra_vectors, extra_labels = self._folder_faces(self.gallery_dir)
            vectors += extra_vectors
            labels += extra_labels
        if num_dataset == 0:
            raise ValueError(f'{self.layout.faces_file}: no face of at least '
                             f'{self.embedder.min_face_size:g} px to audit '
                             f'({len(self.too_small)} smaller faces)')
        return Gallery(np.stack(vectors), labels, num_dataset)

    def _folder_faces(self, folder: str):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'gallery folder not found: {folder}')
        vectors, labels = [], []
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
        for name in names:
            path = osp.join(folder, name)
            try:
                image = read_rgb(path)
            except (FileNotFoundError, ValueError) as err:
                self._skip('gallery_unreadable', f'skipped gallery image: {err}')
                continue
            boxes = [b for b in self.embedder.detect_faces(image)
                     if self.embedder.face_size(b) >= self.embedder.min_face_size]
            if not boxes:
                self._skip('gallery_without_face', f'skipped gallery image without a face of '
                           f'{self.embedder.min_face_size:g} px: {path}')
            for k, box in enumerate(boxes):
                vectors.append(self.embedder.embed(image, box))
                labels.append(f'gallery:{name}#{k}')
        return vectors, labels

    def _bar(self, total: int, label: str) -> Optional[ImageProgressBar]:
        return ImageProgressBar(total, file=sys.stdout, label=label) if self.progress else None

    @staticmethod
    def _by_image(faces: Sequence[Face]) -> Dict[str, List[Face]]:
        grouped: Dict[str, List[Face]] = {}
        for face in faces:
            grouped.setdefault(face.file_name, []).append(face)
        return grouped

    def _skip(self, reason: str, message: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        print_log(message, logger='current', level=30)

    # -- scoring rows ---------------------------------------------------------------------------
    def split_of(self, face: Face) -> str:
        if self.train_ids is None:
            return 'all'
        return 'train' if face.img_id in self.train_ids else 'held-out'

    def row(self, spec: str) -> Row:
        return parse_row(spec, self.layout)

    def score(self, row: Row) -> List[FaceResult]:
        """Every embeddable face of ``row``: distance to its original and the original's rank.

        Images missing from the row are skipped, logged and counted (``skipped``).
        """
        gallery = self.gallery
        results = []
        index_of = {label: i for i, label in enumerate(gallery.labels)}
        shapes = {im['file_name']: (int(im['height']), int(im['width']))
                  for im in self.layout.images()}
        by_image = self._by_image(self.faces)
        bar = self._bar(len(by_image), f'{row.name} ')
        for file_name, faces in by_image.items():
            if bar is not None:
                bar.update()
            path = row.path_for(file_name)
            if path is None:
                self._skip(f'{row.name}: missing_image',
                           f'{row.name}: no image for {file_name}; its {len(faces)} faces skipped')
                continue
            image = read_rgb(path)
            if image.shape[:2] != shapes[file_name]:
                raise ValueError(f'{path}: {image.shape[1]}x{image.shape[0]} pixels, but its '
                                 f'original {file_name} has {shapes[file_name][::-1]} (width, '
                                 'height)')
            for face in faces:
                own = index_of[_label(face)]
                if row.kind == 'original':
                    vector = gallery.vectors[own]
                else:
                    points = self._landmarks.get(_label(face)) if self.align == 'original' \
                        else None
                    vector = self.embedder.embed(image, face.box, points)
                distances = self.embedder.distance(gallery.vectors, vector)
                own_distance = float(distances[own])
                others = np.delete(distances, own)
                rank = 1 + int(np.count_nonzero(others < own_distance))
                results.append(FaceResult(
                    row.name, face, size_bucket(face.size, self.buckets), self.split_of(face),
                    own_distance, rank, gallery.labels[int(np.argmin(distances))]))
        if bar is not None:
            bar.finish()
        return results

    def chance(self, k: int) -> float:
        return min(k, self.gallery.size) / self.gallery.size


@dataclass
class Summary:
    """The figures of one (row, split, bucket) group; intervals are bootstrap percentiles."""
    row: str
    split: str
    bucket: str
    faces: int
    top1: float
    top5: float
    median_distance: float
    below_threshold: float
    intervals: Dict[str, tuple] = field(default_factory=dict)


def summarize(results: Sequence[FaceResult], threshold: float, num_samples: int = 1000,
              seed: int = 0, level: float = 0.95) -> Summary:
    """Rates and the median distance of a group of faces, each with a bootstrap interval."""
    first = results[0]
    top1 = np.array([r.top1 for r in results], dtype=float)
    top5 = np.array([r.top5 for r in results], dtype=float)
    distance = np.array([r.distance for r in results])
    below = float(np.mean(distance < threshold)) if math.isfinite(threshold) else math.nan
    weights = resample_weights(len(results), num_samples, seed)
    samples = {
        'top1': weights @ top1 / len(results),
        'top5': weights @ top5 / len(results),
        'median_distance': np.array([np.median(np.repeat(distance, w)) for w in weights]),
    }
    return Summary(first.row, first.split, first.bucket, len(results), float(top1.mean()),
                   float(top5.mean()), float(np.median(distance)), below,
                   {k: percentile_interval(v, level) for k, v in samples.items()})


def summarize_rows(results: Sequence[FaceResult], threshold: float, num_samples: int = 1000,
                   seed: int = 0) -> List[Summary]:
    """One summary per (row, split, bucket) and per (row, split) over all sizes (bucket 'all')."""
    groups: Dict[tuple, List[FaceResult]] = {}
    for r in results:
        groups.setdefault((r.row, r.split, 'all'), []).append(r)
        groups.setdefault((r.row, r.split, r.bucket), []).append(r)
    summaries = []
    for (row, split, bucket), members in groups.items():
        summary = summarize(members, threshold, num_samples, seed)
        summary.bucket = bucket
        summaries.append(summary)
    return summaries


def identity_top1(audit: IdentityAudit, row: Row) -> Dict[str, float]:
    """Table 1's identity columns for one row: top-1 identification rate and its chance level."""
    results = audit.score(row)
    return dict(identity_top1=float(np.mean([r.top1 for r in results])) if results else math.nan,
                identity_chance=audit.chance(1), identity_faces=len(results))
