"""--detector-config: the settings the tools hand to build_detector."""
import argparse

import pytest

from rdid_mm.evaluation.detectors import build_detector
from rdid_mm.reports.cli_options import (
    add_detector_args,
    add_detector_config_args,
    detector_from_args,
    detector_settings_from_args,
)

from tests.evaluation.detectors.conftest import RTMDET_SMOKE, RTMPOSE_SMOKE


def _settings(argv):
    parser = argparse.ArgumentParser()
    add_detector_args(parser)
    add_detector_config_args(parser)
    args = parser.parse_args(argv)
    return detector_settings_from_args(args, detector_from_args(args))


def test_keypoint_rcnn_stays_the_default():
    assert _settings([]) == dict(weights='torchvision', min_size=800, max_size=1333,
                                 box_detections_per_img=100)


def test_an_mmdet_config_and_a_top_down_pose_config_on_its_boxes():
    assert _settings(['--detector-config', RTMDET_SMOKE, '--detector-weights', 'none']) == dict(
        config=RTMDET_SMOKE, weights='none')
    assert _settings(['--detector-config', RTMPOSE_SMOKE, '--detector-weights', 'w.pth',
                      '--detector-boxes', RTMDET_SMOKE, '--detector-box-thr', '0.5']) == dict(
        config=RTMPOSE_SMOKE, weights='w.pth', boxes=dict(config=RTMDET_SMOKE, weights='none'),
        box_score_thr=0.5)


def test_forgotten_weights_are_a_clear_error():
    settings = _settings(['--detector-config', RTMDET_SMOKE])  # --detector-weights left default
    with pytest.raises(ValueError, match="'torchvision' are Keypoint R-CNN's; for .* give a "
                       "weights file or 'none'"):
        build_detector(settings)
