# RTMDet-tiny, person class only, trained on one version of a de-identified COCO training split
# (original images, Mosaic at a strength, or a restored folder) and validated on the ORIGINAL
# validation images. rdid_mm.reports.downstream (tools/downstream_table.py) writes each version's
# annotation file and sets the train_dataloader paths; the table then scores every trained model
# on the original validation images with the same detector wrapper and bootstrap as Table 1.
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'

metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
val_data_root = 'data/coco/'
val_ann_file = 'annotations/person_keypoints_val2017.json'

model = dict(bbox_head=dict(num_classes=1))

train_dataloader = dict(
    dataset=dict(
        metainfo=metainfo,
        data_root='',
        ann_file='set by rdid_mm.reports.downstream',
        data_prefix=dict(img='')))
val_dataloader = dict(
    dataset=dict(
        metainfo=metainfo,
        data_root=val_data_root,
        ann_file=val_ann_file,
        data_prefix=dict(img='val2017/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=val_data_root + val_ann_file)
test_evaluator = val_evaluator
