"""tools/analysis_tools/benchmark_eval.py runs and accounts for the whole evaluation (a smoke
test; no timing asserts)."""
from tests.evaluation.detector_double import SMALL_DETECTOR
from tests.helpers import load_tool


def test_benchmark_splits_the_evaluation_by_stage(sample_ann_file, sample_img_dir):
    tool = load_tool('analysis_tools/benchmark_eval')
    result = tool.benchmark_eval(sample_ann_file, sample_img_dir, detector=SMALL_DETECTOR,
                            num_images=1, repeats=1, device='cpu')
    stages = result['evaluation']
    assert result['images'] == 1 and result['min_size'] == (128, )
    assert all(stages[s] > 0 for s in ('decode', 'preprocess', 'forward', 'scoring'))
    assert sum(stages[s] for s in ('decode', 'preprocess', 'forward', 'scoring')) <= stages['total']
    report = tool.format_benchmark(result)
    assert '| forward |' in report and 'detector forward alone' in report
