"""Smoke test: the reference check bench runs (tiny size, no timing assertion)."""

from __future__ import annotations

from tests.bench import reference_check


def test_the_bench_times_every_value_in_every_deployment() -> None:
    figures = reference_check.main(["--calls", "2", "--repeat", "1"])
    assert set(figures) == set(reference_check.DEPLOYMENTS)
    assert all(len(row) == len(reference_check.VALUES) and min(row) > 0 for row in figures.values())
