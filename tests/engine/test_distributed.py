"""Gradient sync: one synchronised step on 2 gloo ranks equals the single-process step on the
same global batch (real images of the de-identified sample, image buffers off)."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.distributed as dist

from rdid_mm.utils.weights_file import load_state_dict_file, save_state_dict_file

from tests.conftest import REPO_ROOT
from tests.helpers import free_port, run_ranks

CONFIGS = {
    'rdid_gan': 'configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py',
    'cyclegan': 'configs/cyclegan/cyclegan_lsgan-id0-resnet-in-tiny_1xb2-4i_deid-sample.py',
}
GLOBAL_BATCH = 4
LR = 0.1


def _config(name):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIGS[name]))
    cfg.model.buffer_size = 0  # the buffers' random draws would differ between the two layouts
    return cfg


def real_batch(name, deid_sample):
    """GLOBAL_BATCH training samples of the tiny config's pipeline, collated."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope

    from rdid_mm.engine import register_all_modules
    from rdid_mm.registry import DATASETS
    register_all_modules(init_default_scope=False)
    cfg = _config(name)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = deid_sample
    dataset_cfg.strengths = [8, 16]  # 3 images with faces x 2 strengths
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        dataset = DATASETS.build(dataset_cfg)
    np.random.seed(0)
    return pseudo_collate([dataset[i] for i in range(GLOBAL_BATCH)])


def one_step(name, batch, world_size):
    """Build the model (seed 0), wrap it as the Runner would, run one train_step; its state_dict."""
    from mmengine.logging import MessageHub
    from mmengine.model import MMSeparateDistributedDataParallel
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    from mmengine.registry import DefaultScope

    from rdid_mm.engine import register_all_modules
    from rdid_mm.engine.distributed import needs_gradient_sync, sync_gradients_before_step
    from rdid_mm.registry import MODELS
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('rdid_mm'):
        model = MODELS.build(_config(name).model)
    model.init_weights()
    optim = OptimWrapperDict(**{
        net: OptimWrapper(torch.optim.SGD(getattr(model, net).parameters(), lr=LR))
        for net in ('generators', 'discriminators')})
    wrapped = model
    if world_size > 1:
        wrapped = MMSeparateDistributedDataParallel(model, device_ids=None)
        assert needs_gradient_sync(wrapped)
        sync_gradients_before_step(optim)
    if batch is not None:
        MessageHub.get_current_instance().update_info('iter', 0)
        wrapped.train_step(batch, optim_wrapper=optim)
    # the DDP wrappers replace the sub-networks in place: drop their '.module' from the keys
    return {k.replace('.module.', '.', 1): v.detach().clone()
            for k, v in model.state_dict().items()}


def _part(batch, samples):
    """The samples ``samples`` of a collated batch (dicts of lists of per-sample items)."""
    if isinstance(batch, dict):
        return {key: _part(value, samples) for key, value in batch.items()}
    return batch[samples]


def _rank_main(rank, world_size, port, name, batch_file, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        batch = torch.load(batch_file, weights_only=False)
        per_rank = GLOBAL_BATCH // world_size
        part = _part(batch, slice(rank * per_rank, (rank + 1) * per_rank))
        state = one_step(name, part, world_size)
        save_state_dict_file(state, osp.join(out_dir, f'rank{rank}.safetensors'))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_synchronised_step_on_two_ranks_equals_single_process_step(name, deid_sample, tmp_path):
    batch = real_batch(name, deid_sample)
    batch_file = str(tmp_path / 'batch.pth')
    torch.save(batch, batch_file)
    codes, seconds = run_ranks(_rank_main, 2, (free_port(), name, batch_file, str(tmp_path)),
                               timeout=300)
    assert codes == [0, 0], f'exit codes {codes} after {seconds:.0f} s (None: still running)'
    single = one_step(name, batch, world_size=1)
    initial = one_step(name, None, world_size=1)
    rank0 = load_state_dict_file(str(tmp_path / 'rank0.safetensors'))
    rank1 = load_state_dict_file(str(tmp_path / 'rank1.safetensors'))
    assert rank0.keys() == single.keys()
    for key in single:
        assert torch.equal(rank0[key], rank1[key]), key
    # The update of the synchronised step equals the single-process update up to float rounding
    # (the gradients are summed in another order, and a rounding difference can flip a near-tie of
    # CBAM's max pooling, which routes its gradient). Without the sync each rank would step on its
    # own half batch: an update differing by its own order of magnitude.
    keys = [k for k in single if single[k].is_floating_point()]
    update_single = torch.cat([(single[k] - initial[k]).flatten() for k in keys])
    update_dist = torch.cat([(rank0[k] - initial[k]).flatten() for k in keys])
    relative = ((update_dist - update_single).norm() / update_single.norm()).item()
    print(f'{name}: |update difference| / |update| = {relative:.2e}, max abs difference '
          f'{(update_dist - update_single).abs().max().item():.2e}, max update '
          f'{update_single.abs().max().item():.2e}')
    assert update_single.abs().max() > 1e-3  # the step moved the weights
    assert relative < 1e-3
    assert (update_dist - update_single).abs().max() < 1e-3


def _step_with_a_parameter_only_rank_0_uses(rank, world_size, port, out_dir):
    """One SGD step (lr 1) through a synchronised MMEngine OptimWrapper: ``shared`` has a gradient
    on both ranks, ``rank0_only`` on rank 0 only, ``unused`` on none."""
    from datetime import timedelta

    from mmengine.optim import OptimWrapper

    from rdid_mm.engine.distributed import sync_gradients_before_step
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size, timeout=timedelta(seconds=20))
    try:
        shared = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
        rank0_only = torch.nn.Parameter(torch.tensor([3.0]))
        unused = torch.nn.Parameter(torch.tensor([4.0]))
        optim = OptimWrapper(torch.optim.SGD([shared, rank0_only, unused], lr=1.0))
        sync_gradients_before_step(optim)
        x = torch.tensor([1.0, 2.0]) * (rank + 1)
        loss = (shared * x).sum() + (5 * rank0_only.sum() if rank == 0 else 0)
        loss.backward()
        optim.step()
        result = dict(shared=shared.detach().clone(), rank0_only=rank0_only.detach().clone(),
                      unused=unused.detach().clone(), unused_grad=unused.grad is None)
    except Exception as err:  # written for the test to show (a size mismatch, a closed peer)
        result = dict(error=f'{type(err).__name__}: {err}')
    finally:
        dist.destroy_process_group()
    torch.save(result, osp.join(out_dir, f'rank{rank}.pth'))


@pytest.mark.slow
def test_a_parameter_used_on_one_rank_only_is_averaged_as_zero_elsewhere(tmp_path):
    """DDP's rule: mean over all ranks, a rank without a gradient contributing zero. Rank 0's
    gradient of ``rank0_only`` is 5, rank 1 has none: both step by 5 / 2; ``shared`` steps by the
    mean of (1, 2) and (2, 4); ``unused`` has no gradient anywhere and does not move."""
    codes, seconds = run_ranks(_step_with_a_parameter_only_rank_0_uses, 2,
                               (free_port(), str(tmp_path)), timeout=90)
    assert codes == [0, 0], f'exit codes {codes} after {seconds:.0f} s (None: hung)'
    results = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in range(2)]
    for result in results:
        assert 'error' not in result, result['error']
        assert torch.equal(result['shared'], torch.tensor([1.0 - 1.5, 2.0 - 3.0]))
        assert torch.equal(result['rank0_only'], torch.tensor([3.0 - 2.5]))
        assert torch.equal(result['unused'], torch.tensor([4.0])) and result['unused_grad']
