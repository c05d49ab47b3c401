"""Smoke test: the customer-directory benchmark still runs (tiny sizes, no timing assertions)."""

from __future__ import annotations

from pathlib import Path

from tests.bench import handoffs_directory


async def test_the_benchmark_runs_and_reports_its_measures_and_baselines(tmp_path: Path) -> None:
    args = handoffs_directory.parse(["--customers", "300", "--open", "200", "--changes", "20", "--partitions", "3",
                                     "--output", str(tmp_path / "out.md")])
    text = await handoffs_directory.run(args)
    assert "directory memory per identifier (900 identifiers" in text and "change list lost" in text
    assert "(20 handoffs re-timed of 200 open)" in text  # customers 0-19 each have one handoff
    assert (tmp_path / "out.md").read_text() == text
