"""Box sources: a ``#`` in an image's name is not a video frame's key (``video.mp4#000123``)."""
import json

import numpy as np

from rdid_mm.restore.box_sources import (
    BoxesFile,
    BuilderFaces,
    Localiser,
    frame_key,
    split_frame_key,
)


def test_frame_keys_are_told_from_image_names_with_a_hash():
    assert split_frame_key(frame_key('clips/a.mp4', 12)) == ('clips/a.mp4', 12)
    assert split_frame_key('party#1.jpg') is None
    assert split_frame_key('shots#2/a.png') is None
    assert split_frame_key('notes#000001') is None  # not a video's name
    assert split_frame_key('a.png') is None


def test_an_image_named_with_a_hash_gets_its_boxes(tmp_path):
    """The localiser took ``party#1.jpg`` for frame ``1.jpg`` of a video (int() failed: the
    whole run stopped); the builder's faces and a boxes file's unmatched keys likewise."""
    image = np.full((48, 64, 3), 128, np.uint8)
    localiser = Localiser()
    assert localiser.boxes('party#1.jpg', image) == []
    assert localiser.frames.network_frames == 0  # an image: not the video frames' localiser
    localiser.boxes('clip.mp4#000000', image)
    assert localiser.frames.network_frames == 1
    builder = BuilderFaces({'party#1.png': [[1, 2, 3, 4]], '3': [[5, 6, 7, 8]]})
    assert builder.boxes('party#1.png', image) == [[1, 2, 3, 4]]
    assert builder.boxes('clip.mp4#000003', image) == [[5, 6, 7, 8]]
    path = tmp_path / 'boxes.json'
    path.write_text(json.dumps({'party#1.jpg': [], 'clip.mp4#000002': [], 'gone.mp4#000001': []}))
    assert BoxesFile(str(path)).unmatched(['party#1.jpg', 'clip.mp4']) == ['gone.mp4#000001']
