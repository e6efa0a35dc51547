"""The settings a de-identified dataset is built with (a resumed build must use the same)."""
from dataclasses import asdict, dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class BuildSettings:
    """Everything that decides the content of the outputs."""
    strengths: Tuple[int, ...]
    face_sources: Tuple = ()
    margin: float = 0.1
    publish: bool = False
    jpeg_quality: Optional[int] = None
    require_all_faces: bool = False
    audit_min_coverage: float = 0.5
    input_kind: str = 'coco'
    person_images_only: bool = False

    def to_json(self) -> dict:
        data = asdict(self)
        data['strengths'] = list(self.strengths)
        data['face_sources'] = [s if isinstance(s, str) else dict(s) for s in self.face_sources]
        return data
