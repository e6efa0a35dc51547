"""The summary is built from records; logging names the file."""
import logging

from mmengine.logging import MMLogger

from rdid_mm.deid.summary import SummaryBuilder, log_record


def _done(name, boxes, **fields):
    record = dict(file_name=name, image_id=1, status='done', reason=None, detail=None,
                  boxes=boxes, detections={'centerface': len(boxes)}, dropped_empty=0,
                  dropped_outside=0, merged=0, smaller_than_block={'8': 0}, audit_checked=1,
                  missed=[], mode='RGB', orientation=1)
    record.update(fields)
    return record


def test_summary_counts():
    builder = SummaryBuilder({'kind': 'coco'}, {'strengths': [8]}, audit_available=True)
    builder.add(_done('a.jpg', [[0, 0, 4, 4, 0.9, 'centerface']], mode='L', orientation=6,
                      smaller_than_block={'8': 1}))
    builder.add(_done('b.jpg', [], missed=[dict(annotation_id=5, reason='nose not pixelated')]))
    builder.add(dict(file_name='c.jpg', image_id=3, status='skipped', reason='missing',
                     detail='file not found'))
    builder.add(_done('d.jpg', [[1, 1, 9, 9, 1.0, 'wholebody']], status='failed',
                      reason='missed_faces', detail='x',
                      missed=[dict(annotation_id=7, reason='eye')]))
    summary = builder.summary(5, 2, annotations={'images': 2})
    assert summary['images'] == dict(listed=5, done=2, skipped=1, failed=1, without_face=1,
                                     without_person_annotation=2, converted_to_rgb={'L': 1})
    assert summary['skipped']['by_reason'] == {'missing': 1}
    assert summary['failed'] == [dict(file_name='d.jpg', reason='missed_faces', detail='x')]
    assert summary['faces']['pixelated_boxes'] == 1
    assert summary['faces']['smaller_than_block'] == {'8': 1}
    assert summary['missed_face_audit']['missed'] == 2
    assert summary['missed_face_audit']['images_with_missed_faces'] == 2
    assert summary['exif_orientation_not_applied'] == [dict(file_name='a.jpg', orientation=6)]
    assert summary['annotations'] == {'images': 2}


def test_log_record_names_the_file():
    messages = []
    handler = logging.Handler()
    handler.emit = messages.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        log_record(_done('quiet.jpg', [[0, 0, 9, 9, 1.0, 'x']]))
        log_record(_done('small.jpg', [[0, 0, 4, 4, 1.0, 'x']], smaller_than_block={'8': 1}))
        log_record(dict(file_name='gone.jpg', status='skipped', reason='missing',
                        detail='file not found (/data/gone.jpg)'))
    finally:
        logger.removeHandler(handler)
    text = [m.getMessage() for m in messages]
    assert text == ["small.jpg: faces smaller than one block (strength: count) {'8': 1}",
                    'skipped gone.jpg: missing: file not found (/data/gone.jpg)']
