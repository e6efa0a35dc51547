"""Image reading for evaluation follows the stored pixels, as COCO's annotations do."""
import numpy as np
from PIL import Image

from rdid_mm.utils.io import read_rgb


def test_read_rgb_ignores_exif_orientation(tmp_path):
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = str(tmp_path / 'rotated.png')
    Image.fromarray(stored).save(path, exif=exif)
    image = read_rgb(path)
    assert image.shape == (20, 40, 3)
    assert tuple(image[10, 5]) == (255, 0, 0) and tuple(image[10, 35]) == (0, 0, 0)


def _odd_images(folder):
    """16-bit grey, LA (grey + alpha) and palette-with-transparency PNGs, and what each must
    decode to, computed without the project's decoder."""
    import os
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    cases = {}
    grey16 = rng.integers(0, 65536, (30, 40), dtype=np.uint16)
    Image.fromarray(grey16).save(f'{folder}/grey16.png')
    grey8 = np.floor(grey16.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)
    cases['grey16.png'] = np.repeat(grey8[..., None], 3, axis=2)
    la = np.stack([rng.integers(0, 256, (30, 40)), rng.integers(0, 256, (30, 40))], -1)
    Image.fromarray(la.astype(np.uint8), 'LA').save(f'{folder}/la.png')
    cases['la.png'] = np.repeat(la[..., :1].astype(np.uint8), 3, axis=2)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    indices = rng.integers(0, 16, (30, 40), dtype=np.uint8)
    image = Image.fromarray(indices, 'P')
    image.putpalette(palette.flatten().tolist())
    image.info['transparency'] = 0
    image.save(f'{folder}/palette.png', transparency=0)
    cases['palette.png'] = palette[indices]
    return cases


def test_16_bit_la_and_palette_decode_the_same_in_every_row(tmp_path):
    """The builder (mosaic of a face-free image), the paired dataset's loader (model rows), the
    GT and Mosaic rows of the detector metric and the face metric all see the same pixels."""
    import json

    from mmengine.registry import DefaultScope

    from rdid_mm.deid import build_deid_dataset
    from rdid_mm.engine import register_all_modules
    from rdid_mm.evaluation import DetectorAPMetric, FaceRegionQualityMetric
    from rdid_mm.layout import DeidLayout
    from rdid_mm.registry import DATASETS
    from rdid_mm.utils.io import read_image

    cases = _odd_images(str(tmp_path / 'images'))
    coco = dict(images=[dict(id=i + 1, file_name=n, width=40, height=30)
                        for i, n in enumerate(cases)], annotations=[],
                categories=[dict(id=1, name='person', keypoints=[], skeleton=[])])
    (tmp_path / 'coco.json').write_text(json.dumps(coco))
    out_dir = str(tmp_path / 'deid')
    build_deid_dataset(ann_file=str(tmp_path / 'coco.json'), img_dir=str(tmp_path / 'images'),
                       out_dir=out_dir, strengths=(8, ), face_sources=('coco_keypoints', ),
                       progress=False)
    layout = DeidLayout(out_dir)
    register_all_modules()
    pipeline = [dict(type='LoadRGBImage', key='img_mosaic'),
                dict(type='LoadRGBImage', key='img_gt')]
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dict(type='DeidPairedDataset', data_root=out_dir, strengths=[8],
                                      pipeline=pipeline))
    gt_row = DetectorAPMetric(layout.ann_file, pred_key='img_gt')
    mosaic_row = DetectorAPMetric(layout.ann_file, pred_key='img_mosaic')
    face_metric = FaceRegionQualityMetric()
    assert len(dataset) == 3
    for index in range(3):
        item = dataset[index]
        name = dataset.get_data_info(index)['file_name']
        expected = cases[name]
        sample = dict(img_id=item['img_id'], gt_path=item['gt_path'],
                      mosaic_path=item['mosaic_path'])
        seen = {
            'builder': read_image(item['gt_path']).rgb,
            'mosaic file (face-free: the original)': read_rgb(item['mosaic_path']),
            'dataset gt': item['img_gt'],
            'dataset mosaic': item['img_mosaic'],
            'GT row': gt_row._image_of(sample, item['img_id']).permute(1, 2, 0).numpy(),
            'Mosaic row': mosaic_row._image_of(sample, item['img_id']).permute(1, 2, 0).numpy(),
            'face metric gt': face_metric._image(sample, 'img_gt'),
        }
        for where, pixels in seen.items():
            np.testing.assert_array_equal(pixels, expected, err_msg=f'{name}: {where}')
