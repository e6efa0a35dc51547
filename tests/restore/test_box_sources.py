"""Box sources: a ``#`` in an image's name is not a video frame's key (``video.mp4#000123``);
the localiser's options only where the localiser gives the boxes."""
import json

import numpy as np
import pytest

from rdid_mm.restore.box_sources import (
    BoxesFile,
    BuilderFaces,
    Localiser,
    choose_box_source,
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


def test_localiser_options_only_where_the_localiser_gives_the_boxes(tmp_path):
    """``learned_localiser=False`` (``--lattice-only``) and ``network_every`` set the localiser:
    with a boxes file, a builder output or whole-image mode they would be ignored, so they are
    refused; left at their defaults, every source is chosen as before."""
    from rdid_mm.restore.items import RestoreInputError
    from rdid_mm.restore.strided_localiser import NETWORK_EVERY
    plain = tmp_path / 'plain'
    plain.mkdir()
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('{}')
    builder = tmp_path / 'deid'
    (builder / 'mosaic' / 's8').mkdir(parents=True)
    (builder / 'faces.json').write_text('{}')
    s8 = str(builder / 'mosaic' / 's8')
    assert choose_box_source(str(plain), None, True, False) is None
    assert isinstance(choose_box_source(str(plain), str(boxes), False, False), BoxesFile)
    assert isinstance(choose_box_source(s8, None, False, False), BuilderFaces)
    assert isinstance(choose_box_source(s8, None, False, True), Localiser)  # a COCO json's input
    localiser = choose_box_source(str(plain), None, False, False)
    assert localiser.learned and localiser.frames.every == NETWORK_EVERY
    localiser = choose_box_source(str(plain), None, False, False, False, 2)
    assert not localiser.learned and localiser.frames.every == 2
    for args, reason in (((str(plain), None, True, False), 'in whole-image mode no boxes are '
                          'looked for'),
                         ((str(plain), str(boxes), False, False), '--boxes gives the boxes '
                          'instead'),
                         ((s8, None, False, False), f"{s8} is a builder output: its faces.json "
                          'gives the boxes')):
        for options, flags in (((False, None), '--lattice-only sets'),
                               ((True, 3), '--network-every sets'),
                               ((False, 3), '--lattice-only and --network-every set')):
            with pytest.raises(RestoreInputError) as err:
                choose_box_source(*args, *options)
            assert str(err.value) == f'{flags} the mosaic localiser; {reason}'
    with pytest.raises(RestoreInputError, match='^--boxes gives the boxes to restore; in '
                       'whole-image mode no boxes are looked for$'):
        choose_box_source(str(plain), str(boxes), True, False)
