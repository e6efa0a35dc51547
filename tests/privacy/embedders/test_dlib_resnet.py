"""The dlib ResNet backend on public-domain portraits: one person close, two people apart."""
import numpy as np
import pytest

from rdid_mm.privacy import DlibResNetEmbedder, build_embedder


@pytest.fixture(scope='module')
def portraits():
    import matplotlib.cbook
    import skimage.data

    from rdid_mm.utils.io import read_rgb
    return dict(astronaut=skimage.data.astronaut(),
                hopper=read_rgb(str(matplotlib.cbook.get_sample_data('grace_hopper.jpg',
                                                                      asfileobj=False))))


def test_same_person_close_other_person_far(dlib_embedder, portraits):
    vectors = {}
    for name, image in portraits.items():
        boxes = dlib_embedder.detect_faces(image)
        assert len(boxes) == 1, name
        vectors[name] = dlib_embedder.embed(image, boxes[0])
        flipped = image[:, ::-1].copy()
        x, y, w, h = boxes[0]
        mirrored = [image.shape[1] - x - w, y, w, h]
        vectors[name + '_flipped'] = dlib_embedder.embed(flipped, mirrored)
    assert vectors['astronaut'].shape == (128, )
    assert dlib_embedder.distance(vectors['astronaut'], vectors['astronaut_flipped']) < 0.6
    assert dlib_embedder.distance(vectors['hopper'], vectors['hopper_flipped']) < 0.6
    assert dlib_embedder.distance(vectors['astronaut'], vectors['hopper']) > 0.6


def test_embedding_is_deterministic_and_uses_given_landmarks(dlib_embedder, portraits):
    image = portraits['astronaut']
    box = dlib_embedder.detect_faces(image)[0]
    points = dlib_embedder.landmarks(image, box)
    assert points.shape == (5, 2)
    x, y, w, h = box
    assert np.all((points[:, 0] > x) & (points[:, 0] < x + w))
    assert np.array_equal(dlib_embedder.embed(image, box), dlib_embedder.embed(image, box))
    assert np.allclose(dlib_embedder.embed(image, box, points), dlib_embedder.embed(image, box))
    shifted = dlib_embedder.embed(image, box, points + [6, 0])
    assert not np.allclose(shifted, dlib_embedder.embed(image, box))


def test_missing_model_folder_is_named(tmp_path, portraits):
    embedder = DlibResNetEmbedder(models_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='dlib model file not found: .*'
                       'shape_predictor_5_face_landmarks.dat'):
        embedder.embed(portraits['astronaut'], [0, 0, 50, 50])


def test_build_embedder_default_is_dlib():
    embedder = build_embedder()
    assert isinstance(embedder, DlibResNetEmbedder) and embedder.threshold == 0.6
    assert build_embedder(dict(type='dlib', min_face_size=40)).min_face_size == 40
