from pathlib import Path

import pytest

from tests.bench import kpis
from tests.bench.kpis import ledger_rate, naive_rate, report, workload


def test_kpis_benchmark_runs() -> None:
    items = workload(200)
    assert "Ratio" in report(200, ledger_rate(items), naive_rate(items))


def test_a_run_without_output_only_prints_and_leaves_the_results_page_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The results page keeps earlier runs by hand: a run without ``--output`` must not replace it."""
    monkeypatch.chdir(tmp_path)
    page = Path(kpis.__file__).parent / "results" / "kpis.md"
    before = page.read_bytes()
    assert kpis.main(["--events", "200"]).startswith("# KPI ledger benchmark")
    assert list(tmp_path.iterdir()) == [] and page.read_bytes() == before
    assert kpis.main(["--events", "200", "--output", str(tmp_path / "out.md")]) == (tmp_path / "out.md").read_text()
