"""tools/analysis_tools/benchmark_dataloader.py times the real training pipeline by stage."""
from tests.helpers import load_tool
from tests.tools.test_train_test_tools import TINY_CONFIG


def test_every_stage_is_timed_and_the_workers_follow_the_target(deid_sample):
    tool = load_tool('analysis_tools/benchmark_dataloader')
    result = tool.benchmark_loading(TINY_CONFIG, deid_sample, num_samples=2, warmup=1)
    assert result['samples'] == 2 and result['dataset_length'] > 0
    assert set(result['stage_ms']) == {'decode', 'crop', 'pack'}
    assert all(ms > 0 for ms in result['stage_ms'].values())
    assert abs(sum(result['stage_ms'].values()) - result['total_ms']) < 1e-6
    assert abs(result['per_worker_rate'] - 1000 / result['total_ms']) < 1e-6
    # a target three and a half workers' worth needs four
    report = tool.format_loading_benchmark(result, 3.5 * result['per_worker_rate'])
    assert '4 workers (one CPU core each)' in report
