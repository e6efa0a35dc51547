"""tools/analysis_tools/train_mosaic_net.py: a few steps on one tuning image write weights the
detector loads, deterministically."""
import torch

from rdid_mm.restore.mosaic_net import load_mosaic_net

from tests.helpers import load_tool

train = load_tool('analysis_tools/train_mosaic_net')


def test_a_few_steps_write_loadable_weights_the_same_each_run(sample_dir, tmp_path, capsys):
    outs = []
    for run in range(2):
        out = tmp_path / f'net{run}.pth'
        train.main(['--sample', sample_dir, '--out', str(out), '--steps', '2', '--batch', '2',
                    '--crops', '1', '--crop', '64', '--images', 'skimage:text'])
        outs.append(torch.load(out, weights_only=True))
    printed = capsys.readouterr().out
    assert 'step 2/2: loss' in printed and 'wrote ' in printed
    net = load_mosaic_net.__wrapped__(str(tmp_path / 'net0.pth'))
    assert sum(p.numel() for p in net.parameters()) > 0
    assert all(torch.equal(outs[0][k], outs[1][k]) for k in outs[0])
