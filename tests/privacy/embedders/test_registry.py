"""Embedders are pluggable: a registered class by name, an ONNX file by path."""
import numpy as np
import pytest
import torch

from rdid_mm.privacy import BaseEmbedder, OnnxEmbedder, build_embedder
from rdid_mm.registry import EMBEDDERS


def test_a_user_registered_embedder_is_built_by_name():
    @EMBEDDERS.register_module(name='mean_colour_test', force=True)
    class MeanColour(BaseEmbedder):
        name = 'mean_colour_test'

        def embed(self, image, box, landmarks=None):
            x, y, w, h = (int(v) for v in box[:4])
            return image[y:y + h, x:x + w].reshape(-1, 3).mean(0)

    embedder = build_embedder('mean_colour_test')
    assert isinstance(embedder, MeanColour)
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, 5:] = 200
    assert np.allclose(embedder.embed(image, [5, 0, 5, 5]), 200)


def test_unknown_embedder_lists_the_registered_ones():
    with pytest.raises(KeyError, match=r"unknown face embedder 'arcface'; registered: .*'dlib'"):
        build_embedder('arcface')


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.fc = torch.nn.Linear(8 * 7 * 7, 16)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def export_tiny_net(tmp_path):
    """A real ONNX file (a random 2-layer net standing in for ArcFace) and its torch module."""
    net = TinyNet().eval()
    path = str(tmp_path / 'tiny_face.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, input_names=['x'], dynamo=False)
    return net, path


def test_onnx_embedder_runs_a_model_file_given_by_path(tmp_path):
    import cv2
    net, path = export_tiny_net(tmp_path)
    embedder = build_embedder(dict(type='onnx', model_path=path, input_size=32,
                                   landmark_source=None))
    assert isinstance(embedder, OnnxEmbedder)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (80, 100, 3), dtype=np.uint8)
    box = [10, 20, 40, 40]
    vector = embedder.embed(image, box)
    chip = cv2.resize(image[20:60, 10:50], (32, 32), interpolation=cv2.INTER_LINEAR)
    with torch.no_grad():
        expected = net(torch.from_numpy((chip.astype(np.float32) - 127.5) / 127.5)
                       .permute(2, 0, 1)[None])[0].numpy()
    expected /= np.linalg.norm(expected)
    assert np.allclose(vector, expected, atol=1e-3)
    assert embedder.distance(vector, vector) == pytest.approx(0, abs=1e-9)


def test_onnx_embedder_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='ONNX embedder model file not found'):
        build_embedder(dict(type='onnx', model_path=str(tmp_path / 'arcface.onnx')))


def test_onnx_embedder_aligns_with_centerface_landmarks(tmp_path):
    """The five points ArcFace is aligned with, from CenterFace, on scikit-image's astronaut."""
    import skimage.data
    _, path = export_tiny_net(tmp_path)
    embedder = OnnxEmbedder(path, input_size=32)
    image = skimage.data.astronaut()
    box = [175, 76, 91, 91]  # dlib's HOG box of her face
    points = embedder.landmarks(image, box)
    assert points.shape == (5, 2)
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert np.all((points >= [175, 76]) & (points <= [266, 167]))
    aligned = embedder.embed(image, box)
    assert not np.allclose(aligned, embedder.embed(image, box, landmarks=points + [8, 0]))
    assert np.allclose(aligned, embedder.embed(image, box, landmarks=points))
