"""Smoke test: the state-growth benchmark still runs, and its retention bounds what the baseline lets grow."""

from __future__ import annotations

from pathlib import Path

from tests.bench import state_growth


def test_the_benchmark_runs_and_the_retention_bounds_the_tables(tmp_path: Path) -> None:
    args = state_growth.parse(["--days", "40", "--contacts", "10", "--lost", "2", "--handoff-days", "500",
                               "--handoffs", "2", "--output", str(tmp_path / "o.md")])
    text = state_growth.run(args)
    assert "| offers `pending` keys / events | 62 / 62 | 80 / 80 |" in text  # 31 days of 2 lost answers kept
    assert "| offers dead letters (`WaitedForIdentity`) | 18 | 0 |" in text
    assert "| handoffs directory placements / origins / opened / moves | 80 / 80 / 80 / 8 | 400 / 400 / 400 / 40 |" in (
        text)
    # 91 days of closed cases whole, 340 as tombstones, the first 69 days' dropped (closed over 430 days ago)
    assert "| handoff table after 500 days: whole states / tombstones | 182 / 680 | 1,000 / 0 |" in text
    assert (tmp_path / "o.md").read_text() == text


def test_the_kpi_windows_keep_the_retention() -> None:
    kept = state_growth.KpisSettings().windows_kept_us
    # 40 days of 300 windows, and the 24 (12 days, 12 last hours) that end exactly at the cutoff
    assert state_growth.kpi_windows_run(60, kept)["windows"] == 40 * 300 + 24
    assert state_growth.kpi_windows_run(60, None)["windows"] == 60 * 300
