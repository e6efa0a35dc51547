"""The restoration grid: whole images on top, each face enlarged below."""
import numpy as np
import torch

from rdid_mm.engine.hooks import RestorationVisHook, restoration_grid


def test_grid_layout_and_face_rows():
    mosaic = np.full((100, 200, 3), 10, np.uint8)
    restored = np.full((100, 200, 3), 20, np.uint8)
    gt = np.full((100, 200, 3), 30, np.uint8)
    grid = restoration_grid(mosaic, restored, gt, [[50, 40, 20, 10], [500, 500, 5, 5]],
                            row_height=64, face_height=32)
    # one row of whole images (3 x 128 wide + 2 gaps), one face row (the off-image box is skipped)
    assert grid.shape == (64 + 4 + 32, 3 * 128 + 2 * 4, 3)
    assert (grid[:64, :128] == 10).all() and (grid[:64, 132:260] == 20).all()
    assert (grid[:64, 264:] == 30).all()
    # the box grown by 25% per side: x 45..75, y 37.5..52.5 -> pixels 45..75 x 37..53 (30 x 16)
    face_width = round(30 * 32 / 16)
    assert (grid[68:, :face_width] == 10).all()
    assert (grid[68:, face_width + 4:2 * face_width + 4] == 20).all()


class FakeVisualizer:

    def __init__(self):
        self.images = {}

    def add_image(self, name, image, step=0):
        self.images[(name, step)] = image


class FakeRunner:

    def __init__(self):
        self.visualizer = FakeVisualizer()
        self.iter = 7


def test_hook_draws_at_most_max_samples_per_validation(tmp_path):
    from mmagic.structures import DataSample
    hook = RestorationVisHook(max_samples=2)
    runner = FakeRunner()
    samples = []
    for i in range(3):
        sample = DataSample(metainfo=dict(mosaic_path=f'/x/img{i}.png', face_boxes=[[1, 1, 4, 4]]))
        sample.set_tensor_data({key: torch.full((3, 16, 16), 100.0)
                                for key in ('img_mosaic', 'fake_gt', 'img_gt')})
        samples.append(sample)
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, outputs=samples)
    assert sorted(runner.visualizer.images) == [('restoration_img0', 7), ('restoration_img1', 7)]
    assert runner.visualizer.images[('restoration_img0', 7)].dtype == np.uint8
