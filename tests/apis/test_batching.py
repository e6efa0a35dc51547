"""Several images per test step and per detector call: the AP of batch 4 is that of batch 1."""
import pytest

from rdid_mm import apis

from tests.apis.test_baselines import config_path, with_detector

# torchvision pads a batch to its largest image; on the sample with the small random detector the
# APs of batch 4 and batch 1 agree within this (torchvision's reference evaluation runs batch 1)
AP_TOLERANCE = 1e-6


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    from rdid_mm.utils.weights_file import save_state_dict_file
    model = apis.init_model(config_path('rdid_gan'))
    model.init_weights()
    path = str(tmp_path_factory.mktemp('w') / 'tiny.safetensors')
    save_state_dict_file(model.state_dict(), path)
    return path


@pytest.mark.slow
def test_batch_4_scores_as_batch_1(weights, deid_sample, tmp_path):
    config = with_detector('rdid_gan', tmp_path, deid_sample)
    metrics = {}
    for batch_size in (1, 4):
        metrics[batch_size] = apis.test(
            config, weights, work_dir=str(tmp_path / f'w{batch_size}'),
            out=str(tmp_path / f'out{batch_size}'),
            cfg_options={'test_dataloader.batch_size': batch_size})
    for name in ('coco/bbox_AP', 'coco/kpt_AP', 'coco/bbox_AR100'):
        assert metrics[4][name] == pytest.approx(metrics[1][name], abs=AP_TOLERANCE), (
            name, metrics[1][name], metrics[4][name])
    import numpy as np

    from rdid_mm.utils.io import read_rgb
    for stem in ('000000000785', '000000040083'):
        one = read_rgb(str(tmp_path / 'out1' / 'images' / 's8' / f'{stem}.png'))
        four = read_rgb(str(tmp_path / 'out4' / 'images' / 's8' / f'{stem}.png'))
        np.testing.assert_array_equal(one, four)  # restoration does not see the batch
