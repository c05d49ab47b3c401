from tests.bench.kpis import ledger_rate, naive_rate, report, workload


def test_kpis_benchmark_runs() -> None:
    items = workload(200)
    assert "Ratio" in report(200, ledger_rate(items), naive_rate(items))
