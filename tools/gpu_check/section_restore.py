"""Section ``restore``: whole-image and region-mode throughput of the shipped restorer
(:mod:`rdid_mm.restore`: ``model_restorer``, ``restore_whole``, ``restore_regions`` batched as
the restore loop batches them) on copies of the de-identified sample (COCO sizes)."""
import time

from kit_common import TINY_MODEL, peak_memory_gib, reset_memory, sync


def load_sample(deid_sample, strength, copies):
    """[(name, mosaic RGB uint8 HxWx3, face boxes [x, y, w, h])] repeated to ``copies`` images."""
    import os.path as osp

    from rdid_mm.layout import DeidLayout
    from rdid_mm.utils.io import read_rgb
    layout = DeidLayout(deid_sample)
    if not osp.isfile(layout.faces_file):
        raise FileNotFoundError(f'{layout.faces_file}: no faces.json (--deid-sample must be a '
                                'builder output folder)')
    faces = layout.faces()
    images = [(name, read_rgb(layout.mosaic(name, strength)), [box[:4] for box in faces[name]])
              for name in sorted(faces)]
    if not images:
        raise ValueError(f'{layout.faces_file}: lists no images')
    return [images[i % len(images)] for i in range(copies)]


def restore_sample(restorer, images, mode):
    """The sample through ``rdid_mm.restore`` in ``mode``: restored arrays and the boxes
    restored (region mode: as many images per batch as the restore loop puts together)."""
    from rdid_mm.models.region_restore import box_corners, is_empty, restore_regions
    from rdid_mm.restore.loop import IMAGES_PER_BATCH
    from rdid_mm.restore.regions import restore_whole
    if mode == 'whole-image':
        return [restore_whole(img, restorer) for _, img, _ in images], 0
    outputs = []
    for start in range(0, len(images), IMAGES_PER_BATCH):
        chunk = images[start:start + IMAGES_PER_BATCH]
        outputs += restore_regions([img for _, img, _ in chunk], [b for _, _, b in chunk],
                                   restorer)
    regions = sum(not is_empty(box_corners(box, *img.shape[:2]))
                  for _, img, boxes in images for box in boxes)
    return outputs, regions


def section_restore(args, device, report, bench):
    import torch

    from rdid_mm.models.restorers import model_restorer
    if not args.deid_sample:
        raise ValueError('--deid-sample is not set (run_gpu_check.sh passes the carried sample)')
    images = load_sample(args.deid_sample, args.strength, args.restore_copies)
    torch.backends.cudnn.benchmark = False  # image sizes vary (as the config's val/test)
    model, _ = bench.build_model('RDID-GAN', device,
                                 model_overrides=TINY_MODEL if args.dry_run else None)
    restorer = model_restorer(model.eval())
    pixels = sum(img.shape[0] * img.shape[1] for _, img, _ in images)
    rows = []
    precisions = ['fp32', 'bf16'] if device.type == 'cuda' else ['fp32']
    for precision in precisions:
        for mode in ('whole-image', 'region'):
            reset_memory(device)
            autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                      enabled=precision == 'bf16')
            with autocast:
                restore_sample(restorer, images, mode)  # warm-up (kernel selection, allocator)
                sync(device)
                start = time.perf_counter()
                _, regions = restore_sample(restorer, images, mode)
                sync(device)
                seconds = time.perf_counter() - start
            row = dict(mode=mode, precision=precision, images=len(images),
                       megapixels=pixels / 1e6, seconds=seconds,
                       images_per_s=len(images) / seconds, peak_memory_gib=peak_memory_gib(device))
            if mode == 'region':
                row['regions'] = regions
            rows.append(row)
    for precision in precisions:
        pair = {r['mode']: r for r in rows if r['precision'] == precision}
        if len(pair) == 2:
            pair['region']['speedup_vs_whole'] = (pair['region']['images_per_s']
                                                  / pair['whole-image']['images_per_s'])
    torch.backends.cudnn.benchmark = True
    sizes = sorted({f'{img.shape[1]}x{img.shape[0]}' for _, img, _ in images})
    return dict(rows=rows, image_sizes=sizes, sample=args.deid_sample, strength=args.strength,
                note='random weights (throughput does not depend on them); rdid_mm.restore\'s '
                'model_restorer, restore_whole and restore_regions (context 0.5, crops padded to '
                'a multiple of 32) timed from decoded uint8 images in memory to restored uint8 '
                'images (host-device copies included, file reading and writing not)')
