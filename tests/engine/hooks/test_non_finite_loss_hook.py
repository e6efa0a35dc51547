"""A NaN injected into the generator stops training at that iteration, on every rank; the last
good checkpoint stays."""
import json
import os
import os.path as osp
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from rdid_mm import apis
from rdid_mm.engine.hooks import NonFiniteLossError
from rdid_mm.registry import HOOKS
from rdid_mm.utils.weights_file import load_state_dict_file

from tests.conftest import REPO_ROOT

TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


@HOOKS.register_module(force=True)
class InjectNaNHook(Hook):
    """Test only: fills the restoring generator's first conv weight with NaN before iteration
    ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            model = runner.model.module if hasattr(runner.model, 'module') else runner.model
            next(model.generators['gt'].parameters()).data.fill_(float('nan'))


@HOOKS.register_module(force=True)
class InjectNaNLossHook(Hook):
    """Test only: on rank ``rank``, report ``loss_gan_g_gt`` as NaN at iteration ``at`` (before
    NonFiniteLossHook reads it); the weights, and so every other rank's losses, stay finite."""

    priority = 'HIGH'

    def __init__(self, at, rank):
        self.at = at
        self.rank = rank

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        from mmengine.dist import get_rank
        if runner.iter + 1 == self.at and get_rank() == self.rank:
            outputs['loss_gan_g_gt'] = torch.tensor(float('nan'))


@pytest.mark.slow
def test_nan_stops_training_and_keeps_the_last_good_checkpoint(deid_sample, tmp_path):
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': deid_sample,
        'val_dataloader.dataset.data_root': deid_sample,
        'test_dataloader.dataset.data_root': deid_sample,
        'custom_hooks': [dict(type='InjectNaNHook', at=3)],
    })
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = apis.build_runner(cfg)
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert 'iteration 3' in message and 'loss' in message and 'nan' in message
    assert len(message.splitlines()) == 1
    assert osp.isfile(tmp_path / 'iter_2.pth')
    assert not osp.exists(tmp_path / 'iter_4.pth') and not osp.exists(tmp_path / 'iter_3.pth')
    weights = load_state_dict_file(str(tmp_path / 'iter_2.safetensors'))
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())


def test_finite_losses_pass():
    from rdid_mm.engine.hooks import NonFiniteLossHook
    NonFiniteLossHook().after_train_iter(
        runner=None, batch_idx=0, outputs={'loss_gan_g_gt': torch.tensor(0.5), 'lr': 1.0})


def _train_with_nan_on_rank_1(rank, world_size, port, deid_sample, work_dir):
    """The tiny RDID-GAN through RDIDRunner on 2 gloo ranks; a NaN loss on rank 1 only at
    iteration 2. Writes what stopped this rank, and when, to ``work_dir/rank{R}.json``."""
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    try:
        cfg = Config.fromfile(TINY)
        cfg.merge_from_dict({
            **{f'{loader}.dataset.data_root': deid_sample
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')},
            'custom_hooks': [dict(type='InjectNaNLossHook', at=2, rank=1)]})
        cfg.work_dir = work_dir
        cfg.launcher = 'pytorch'
        apis.build_runner(cfg).train()
        result = dict(error=None)
    except Exception as err:  # noqa: BLE001  (the test reads what each rank raised)
        result = dict(error=type(err).__name__, message=str(err))
    result['ended'] = time.time()
    with open(osp.join(work_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(result, f)
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.mark.slow
def test_a_nan_on_one_rank_stops_every_rank_with_the_same_message(deid_sample, tmp_path):
    """Without the shared flag, rank 1 raises alone and rank 0 waits in the next gradient
    all-reduce (NCCL: until its timeout; gloo: until the closed connection fails it)."""
    from tests.helpers import free_port, run_ranks
    codes, seconds = run_ranks(_train_with_nan_on_rank_1, 2,
                               (free_port(), deid_sample, str(tmp_path)), timeout=120)
    assert codes == [0, 0], f'exit codes {codes} after {seconds:.0f} s (None: still running)'
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]
    assert [r['error'] for r in ranks] == ['NonFiniteLossError'] * 2, ranks
    message = ranks[0]['message']
    assert ranks[1]['message'] == message and len(message.splitlines()) == 1
    assert message.startswith('training stopped at iteration 2: non-finite loss (rank 1: '
                              'loss_gan_g_gt=nan); no checkpoint of this iteration was saved')
    assert abs(ranks[0]['ended'] - ranks[1]['ended']) < 5
    assert not osp.exists(tmp_path / 'iter_2.pth')
