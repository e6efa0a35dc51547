"""Section ``restore``: whole-image and region-mode throughput of the shipped restorer
(:mod:`rdid_mm.restore`: ``model_restorer``, ``restore_whole``, ``restore_regions``) on copies of
the de-identified sample (COCO sizes); region mode with 4 images per generator batch (the loop
before batching) and batched as the restore loop batches them now (``IMAGES_PER_BATCH``)."""
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


REGION_BEFORE, REGION_BATCHED = 'region, 4 images per batch', 'region, batched'
MODES = ('whole-image', REGION_BEFORE, REGION_BATCHED)


def restore_sample(restorer, images, mode):
    """The sample through ``rdid_mm.restore`` in ``mode`` (one of :data:`MODES`): restored
    arrays and the boxes restored (region modes: 4 images per generator batch, or as many as
    the restore loop puts together)."""
    from rdid_mm.models.region_restore import box_corners, is_empty, restore_regions
    from rdid_mm.restore.loop import IMAGES_PER_BATCH
    from rdid_mm.restore.regions import restore_whole
    if mode == 'whole-image':
        return [restore_whole(img, restorer) for _, img, _ in images], 0
    per_batch = 4 if mode == REGION_BEFORE else IMAGES_PER_BATCH
    outputs = []
    for start in range(0, len(images), per_batch):
        chunk = images[start:start + per_batch]
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
        for mode in MODES:
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
            if mode != 'whole-image':
                row['regions'] = regions
            rows.append(row)
    for precision in precisions:
        by_mode = {r['mode']: r for r in rows if r['precision'] == precision}
        for mode in (REGION_BEFORE, REGION_BATCHED):
            by_mode[mode]['speedup_vs_whole'] = (by_mode[mode]['images_per_s']
                                                 / by_mode['whole-image']['images_per_s'])
        by_mode[REGION_BATCHED]['speedup_vs_4_per_batch'] = (
            by_mode[REGION_BATCHED]['images_per_s'] / by_mode[REGION_BEFORE]['images_per_s'])
    torch.backends.cudnn.benchmark = True
    sizes = sorted({f'{img.shape[1]}x{img.shape[0]}' for _, img, _ in images})
    return dict(rows=rows, image_sizes=sizes, sample=args.deid_sample, strength=args.strength,
                note='random weights (throughput does not depend on them); rdid_mm.restore\'s '
                'model_restorer, restore_whole and restore_regions (context 0.5, crops padded to '
                'a multiple of 32, batches of crops of one size) timed from decoded uint8 images '
                'in memory to restored uint8 images (host-device copies included, file reading '
                'and writing not)')
