"""Smoke test: the handoff benchmark still runs (tiny sizes, no timing assertions)."""

from __future__ import annotations

from pathlib import Path

from tests.bench import handoffs


async def test_the_benchmark_runs_and_reports_both_measures_and_baselines(tmp_path: Path) -> None:
    args = handoffs.parse(["--handoffs", "50", "--open", "2000", "--partitions", "3", "--ticks", "4",
                           "--output", str(tmp_path / "out.md")])
    text = await handoffs.run(args)
    assert "| tracker: apply" in text and "| baseline: Avro-encode" in text
    assert "Deadline scan with 2,000 open handoffs" in text and "Ratios: baseline pass" in text
    assert (tmp_path / "out.md").read_text() == text

