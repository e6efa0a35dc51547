"""tools/analysis_tools/restore_throughput.py: the crowd images it restores and the table it
prints (the tiny model: the figures of the docs come from the full-size one)."""
import os.path as osp

import numpy as np
import pytest

from rdid_mm.apis import init_model

from tests.conftest import REPO_ROOT
from tests.helpers import load_tool

restore_throughput = load_tool('analysis_tools/restore_throughput')
TINY = osp.join(REPO_ROOT, 'configs', 'rdid_gan',
                'rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py')


def test_crowd_images_hold_three_separate_pixelated_faces(tmp_path, sample_dir):
    layout = restore_throughput.build_sample_faces(sample_dir, str(tmp_path))
    images = restore_throughput.crowd_images(layout, 6)
    assert len({name for name, _, _ in images}) == 6
    for _, image, boxes in images:
        assert 400 <= image.shape[1] <= 640 and len(boxes) == 3
        for i, (x, y, w, h) in enumerate(boxes):
            assert not restore_throughput._overlaps([x, y, w, h], boxes[:i] + boxes[i + 1:], 0)
            face = image[y:y + h, x:x + w].astype(int)
            # pixelated: far fewer distinct colours than pixels (blocks of 8 px)
            assert len(np.unique(face.reshape(-1, 3), axis=0)) <= -(-w // 6) * -(-h // 6)


@pytest.mark.slow
def test_table_and_batched_outputs_equal_the_loop_before_batching(sample_dir, tmp_path):
    model = init_model(TINY)
    table = restore_throughput.measure(model, sample_dir, images=6, whole_images=2, rounds=1,
                                       work_dir=str(tmp_path))
    assert table['batched']['max_pixel_difference_vs_region_before'] <= 1
    assert table['batched']['faces'] == 18 and table['whole']['images'] == 2
    for mode in restore_throughput.MODES:
        row = table[mode]
        assert row['images_per_second'] == pytest.approx(row['images'] / row['seconds'],
                                                         rel=0.01)
    assert table['batched']['vs_region_before'] == pytest.approx(
        table['batched']['images_per_second'] / table['region_before']['images_per_second'],
        abs=0.01)
    text = restore_throughput.markdown(table)
    assert '| batched | 6 | 18 |' in text and 'max pixel difference' in text
