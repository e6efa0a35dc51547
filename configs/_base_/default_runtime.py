# Runtime shared by every rdid_mm config: mmagic's GAN runtime, in rdid_mm's scope.
#
# Scope rule: configs set default_scope='rdid_mm', so `type='X'` finds rdid_mm's modules first,
# then mmagic's, then MMEngine's. mmdet and mmpose modules are named with their prefix
# (`type='mmdet.X'`, `type='mmpose.X'`).
_base_ = ['mmagic::_base_/gen_default_runtime.py']

default_scope = 'rdid_mm'

# The checkpoint policy: a .safetensors weights file beside every checkpoint; load_from reads
# weights files only; --resume unpickles full state only from the run's own work_dir.
runner_type = 'RDIDRunner'

randomness = dict(seed=2021, diff_rank_seed=True)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,
        less_keys=[],
        greater_keys=['coco/kpt_AP', 'coco/bbox_AP'],
        save_optimizer=True))

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', by_epoch=False)
load_from = None
resume = False
