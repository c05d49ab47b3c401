"""Smoke test: the handoff benchmark still runs (tiny sizes, no timing assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import handoffs


async def test_the_benchmark_runs_and_reports_both_measures_and_baselines(tmp_path: Path) -> None:
    args = handoffs.parse(["--handoffs", "50", "--open", "2000", "--partitions", "3", "--ticks", "4",
                           "--output", str(tmp_path / "out.md")])
    text = await handoffs.run(args)
    assert "| tracker: apply" in text and "| baseline: Avro-encode" in text
    assert "Deadline scan with 2,000 open handoffs" in text and "Ratios: baseline pass" in text
    assert (tmp_path / "out.md").read_text() == text


async def test_a_run_without_output_only_prints_and_leaves_the_results_page_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The results page keeps earlier runs by hand: a run without ``--output`` must not replace it."""
    monkeypatch.chdir(tmp_path)
    page = Path(handoffs.__file__).parent / "results" / "handoffs.md"
    before = page.read_bytes()
    args = handoffs.parse(["--handoffs", "20", "--open", "500", "--partitions", "2", "--ticks", "2"])
    assert args.output is None
    text = await handoffs.run(args)
    assert text.startswith("# Handoff tracker benchmark")
    assert list(tmp_path.iterdir()) == []
    assert page.read_bytes() == before
