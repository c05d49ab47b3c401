from pathlib import Path

import pytest

from tests.bench import dedupe
from tests.bench.dedupe import report, run


def test_dedupe_benchmark_runs() -> None:
    results = run(batches=3, size=10)
    assert "Ratio" in report(results, 3, 10)


def test_a_run_without_output_only_prints_and_leaves_the_results_page_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The results page keeps earlier runs by hand: a run without ``--output`` must not replace it (it did unless
    told ``--no-write``)."""
    monkeypatch.chdir(tmp_path)
    page = Path(dedupe.__file__).parent / "results" / "dedupe.md"
    before = page.read_bytes()
    assert dedupe.main(["--batches", "3", "--batch-size", "10"]).startswith("# Adapter dedupe store benchmark")
    assert list(tmp_path.iterdir()) == [] and page.read_bytes() == before
