# RTMPose-t (top-down, SimCC), trained on one version of a de-identified COCO training split
# (original images, Mosaic at a strength, or a restored folder) and validated on the ORIGINAL
# validation images with ground-truth person boxes. rdid_mm.reports.downstream writes each
# version's annotation file and sets the train_dataloader paths.
_base_ = 'mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py'

val_data_root = 'data/coco/'
val_ann_file = 'annotations/person_keypoints_val2017.json'

train_dataloader = dict(
    dataset=dict(
        data_root='',
        ann_file='set by rdid_mm.reports.downstream',
        data_prefix=dict(img='')))
val_dataloader = dict(
    dataset=dict(
        data_root=val_data_root,
        ann_file=val_ann_file,
        data_prefix=dict(img='val2017/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=val_data_root + val_ann_file)
test_evaluator = val_evaluator
