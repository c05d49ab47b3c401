from tests.bench.dedupe import report, run


def test_dedupe_benchmark_runs() -> None:
    results = run(batches=3, size=10)
    assert "Ratio" in report(results, 3, 10)
