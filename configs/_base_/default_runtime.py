# Runtime shared by every rdid_mm config (mmagic's GAN runtime, without loops, evaluators and
# optimisers, which datasets/ and schedules/ define).
#
# Scope rule: configs set default_scope='rdid_mm', so `type='X'` finds rdid_mm's modules first,
# then mmagic's, then MMEngine's. mmdet and mmpose modules are named with their prefix
# (`type='mmdet.X'`, `type='mmpose.X'`). A config that inherits mmagic's own bases
# (`mmagic::...`) sets default_scope='rdid_mm' again after them.
default_scope = 'rdid_mm'

# RDIDRunner: a .safetensors weights file and per-rank RNG/image-buffer files beside every
# checkpoint; every checkpoint holds tensors and plain types and is read with weights_only=True
# (load_from and --resume run no pickled code); GAN gradients averaged over ranks before each
# optimiser step; cudnn_benchmark for training only (off in val and test).
# Named by its import path, which MMEngine's registries resolve in any scope: mmdet's
# tools/train.py builds it with MMEngine's root RUNNERS before any default scope is set.
# (Runner.from_cfg, as mmagic's tools/train.py calls it, builds MMEngine's plain Runner.)
runner_type = 'rdid_mm.engine.RDIDRunner'

randomness = dict(seed=2021, diff_rank_seed=True)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # MMEngine's CheckpointHook, saving before it deletes the oldest checkpoint and writing
    # last_checkpoint atomically: a kill during a save keeps the previous checkpoint
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,
        less_keys=[],
        greater_keys=['coco/kpt_AP', 'coco/bbox_AP'],
        # the best checkpoint by the validation split's keypoint AP (DetectorAPMetric)
        save_best='coco/kpt_AP',
        rule='greater',
        save_optimizer=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # stops at the first NaN/inf loss, before CheckpointHook could save the broken weights
    non_finite_loss=dict(type='NonFiniteLossHook'))

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

# GANs: each sub-network (generators, discriminators) gets its own DDP wrapper; mmagic calls the
# networks past it, so RDIDRunner averages gradients before each optimiser step. The ranks start
# equal because MMEngine's Runner._init_model_weights broadcasts rank 0's state_dict after
# init_weights (rdid_mm/engine/distributed.py). BatchNorm statistics (Pix2Pix) stay per rank;
# sync_bn='torch' synchronises them on GPUs.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

vis_backends = [dict(type='VisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
log_processor = dict(type='LogProcessor', by_epoch=False)
load_from = None
resume = False
