# The CPU tests' runtime: a log line every iteration, a checkpoint every 2 (none by AP), no cuDNN
# autotuning, one OpenCV thread.
_base_ = ['./default_runtime.py']

default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=2, save_best=None))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(opencv_num_threads=1))
