"""The evaluation tests' fixtures (the sample's files, the detector double), for the hook tests."""
from tests.evaluation.conftest import gt_double, pycocotools_gt_stats, sample_gt_files  # noqa: F401
