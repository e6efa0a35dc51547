"""The paired de-identification dataset: the builder's output read as (mosaic, gt) pairs."""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from rdid_mm.layout import DeidLayout
from rdid_mm.registry import DATASETS

from .split_annotations import split_annotations
from .training_split import split_ids


@DATASETS.register_module()
class DeidPairedDataset(BaseDataset):
    """Pixelated images and their originals, as written by ``rdid_mm.deid.build_deid_dataset``.

    The folder is read through :class:`rdid_mm.layout.DeidLayout` (the builder's own layout):
    ``gt/<file_name>``, ``mosaic/s{S}/<stem>.png`` (or ``.jpg``), sub-folders kept, the
    annotation file and ``faces.json``. Pairs are keyed by the full ``file_name``, so two images
    with the same name in different sub-folders stay apart.

    The metainfo carries ``ann_file``, ``strengths`` and ``data_root``: a ``DetectorAPMetric``
    without an ``ann_file`` follows the dataloader it evaluates. For ``subset='val'`` that
    ``ann_file`` is the split's own small json (:mod:`.split_annotations`, written once under
    ``ROOT/annotations/splits/``), so COCOeval scores exactly the held-out images without loading
    the whole source json; ``source_ann_file`` names the file it was cut from.

    One sample per (image, strength). Each data info holds ``img_id``, ``img_mosaic_path`` /
    ``img_gt_path`` (read by ``LoadImageFromFile``), ``mosaic_path``, ``gt_path``, ``strength``,
    ``face_boxes`` ([x, y, w, h] in original pixels) and ``ori_shape`` ((height, width) from the
    annotation file).

    Images whose mosaic or original file is missing are skipped, logged and counted
    (``self.skipped``); with ``filter_cfg=dict(require_faces=True)`` (training) so are images
    without a face box. A missing annotation file, faces file or strength folder is an error.

    Args:
        data_root: the builder's output folder.
        strengths: block size(s) S to read; one sample per image and strength.
        ann_file: COCO json relative to ``data_root`` (or absolute).
        faces_file: the face boxes json relative to ``data_root`` (or absolute).
        gt_dir: folder of the originals, relative to ``data_root`` (or absolute).
        filter_cfg: ``dict(require_faces=True)`` drops images without face boxes.
        subset: ``'all'``; or ``'train'`` / ``'val'``: the images left after, or the
            ``num_val_images`` held out for, model selection (a seeded random choice of image ids,
            the same for both, so the two never overlap).
        num_val_images, split_seed: size and seed of that held-out validation split.
        pipeline, test_mode, indices, lazy_init, max_refetch: as mmengine's ``BaseDataset``.
    """

    METAINFO = dict(domains=('mosaic', 'gt'))

    def __init__(self,
                 data_root: str,
                 strengths: Union[int, Sequence[int]] = (8, ),
                 ann_file: str = 'annotations/person_keypoints.json',
                 faces_file: str = 'faces.json',
                 gt_dir: str = 'gt',
                 filter_cfg: Optional[dict] = None,
                 subset: str = 'all',
                 num_val_images: int = 0,
                 split_seed: int = 0,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False,
                 max_refetch: int = 1000):
        strengths = [strengths] if isinstance(strengths, int) else list(strengths)
        if not strengths or any(int(s) != s or s < 1 for s in strengths):
            raise ValueError(f'strengths must be positive integers, got {strengths}')
        self.strengths = [int(s) for s in strengths]
        if subset not in ('all', 'train', 'val'):
            raise ValueError(f"subset must be 'all', 'train' or 'val', got {subset!r}")
        if subset != 'all' and num_val_images < 1:
            raise ValueError(f'subset={subset!r} needs num_val_images >= 1')
        self.subset = subset
        self.num_val_images = num_val_images
        self.split_seed = split_seed
        self.faces_file = faces_file
        self.gt_dir = gt_dir
        self.skipped = {}
        self.split_ann_file = None
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            filter_cfg=filter_cfg,
            pipeline=list(pipeline),
            test_mode=test_mode,
            indices=indices,
            lazy_init=lazy_init,
            max_refetch=max_refetch)
        self._update_metainfo()

    def _update_metainfo(self) -> None:
        self._metainfo.update(ann_file=self.split_ann_file or self.ann_file,
                              source_ann_file=self.ann_file, strengths=list(self.strengths),
                              data_root=self.data_root)

    def full_init(self) -> None:
        """Load, filter and subset as ``BaseDataset`` does; then cut the validation split's own
        json from the images that remain (missing files and filters already applied)."""
        if self._fully_initialized:
            return
        super().full_init()
        if self.subset == 'val':
            layout = DeidLayout(self.data_root, ann_file=self.ann_file)
            img_ids = sorted({int(self.get_data_info(i)['img_id']) for i in range(len(self))})
            self.split_ann_file = split_annotations(layout.ann_file, img_ids, layout.splits_dir,
                                                    subset='val', split_seed=self.split_seed)
            self._update_metainfo()

    def _root_path(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)

    def load_data_list(self) -> List[dict]:
        """Read the annotation and faces files; one data info per (image, strength)."""
        layout = DeidLayout(self.data_root, gt_dir=self._root_path(self.gt_dir),
                            ann_file=self.ann_file)
        faces_path = self._root_path(self.faces_file)
        for path, what in ((layout.ann_file, 'annotation file'), (faces_path, 'faces file')):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{what} not found: {path} (data_root={self.data_root})')
        images = layout.images()
        if not images:
            raise ValueError(f'{layout.ann_file}: no images listed')
        images = self._select_subset(images, layout.ann_file)
        faces = _read_faces(faces_path)
        for strength in self.strengths:
            folder = layout.mosaic_dir(strength)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'no pixelated images at strength {strength}: {folder} is missing')

        data_list = []
        missing = []
        for image in images:
            file_name = image['file_name']
            gt_path = layout.gt(file_name)
            boxes = [self._face_box(box, faces_path, file_name)
                     for box in faces.get(file_name, [])]
            for strength in self.strengths:
                mosaic_path = layout.mosaic(file_name, strength)
                absent = [p for p in (mosaic_path, gt_path) if not osp.isfile(p)]
                if absent:
                    missing.append(absent[0])
                    continue
                data_list.append(
                    dict(
                        img_id=int(image['id']),
                        file_name=file_name,
                        img_mosaic_path=mosaic_path,
                        img_gt_path=gt_path,
                        mosaic_path=mosaic_path,
                        gt_path=gt_path,
                        strength=strength,
                        face_boxes=boxes,
                        ori_shape=(int(image['height']), int(image['width']))))
        if missing:
            self.skipped['missing_file'] = len(missing)
            print_log(f'{type(self).__name__}: skipped {len(missing)} (image, strength) pairs '
                      f'with a missing file, e.g. {missing[0]}', logger='current', level=30)
        if not data_list:
            raise ValueError(f'{self.data_root}: no (mosaic, gt) pair found for strengths '
                             f'{self.strengths} ({len(missing)} with a missing file)')
        return data_list

    def _select_subset(self, images: List[dict], ann_path: str) -> List[dict]:
        """The images of ``self.subset``: a seeded choice of ``num_val_images`` ids is 'val'."""
        if self.subset == 'all':
            return images
        ids = [int(image['id']) for image in images]
        if self.num_val_images >= len(ids):
            raise ValueError(f'{ann_path}: cannot hold out {self.num_val_images} validation '
                             f'images from {len(ids)}')
        kept = split_ids(ids, self.subset, self.num_val_images, self.split_seed)
        return [image for image in images if int(image['id']) in kept]

    @staticmethod
    def _face_box(box, faces_path: str, file_name: str) -> List[float]:
        if not isinstance(box, (list, tuple)) or len(box) < 4:
            raise ValueError(f'{faces_path}: face box of {file_name} is not [x, y, w, h, ...]: '
                             f'{box!r}')
        return [float(v) for v in box[:4]]

    def filter_data(self) -> List[dict]:
        """Drop images without face boxes when ``filter_cfg=dict(require_faces=True)``."""
        if not self.filter_cfg or not self.filter_cfg.get('require_faces', False):
            return self.data_list
        kept = [info for info in self.data_list if info['face_boxes']]
        dropped = len(self.data_list) - len(kept)
        if dropped:
            self.skipped['no_face'] = dropped
            print_log(f'{type(self).__name__}: skipped {dropped} (image, strength) pairs without '
                      f'a face box', logger='current', level=20)
        if not kept:
            raise ValueError(f'{self.data_root}: no image with a face box to train on')
        return kept


def _read_faces(path: str) -> dict:
    import json
    try:
        with open(path, encoding='utf-8') as f:
            faces = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not valid json ({err})') from None
    if not isinstance(faces, dict):
        raise ValueError(f'{path}: expected {{file_name: [[x, y, w, h, ...], ...]}}, '
                         f'got {type(faces).__name__}')
    return faces
