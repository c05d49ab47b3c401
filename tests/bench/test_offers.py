"""Keeps the offer benchmark runnable: a tiny run against the test broker (no timing assertions)."""

from pathlib import Path

import pytest

from tests.bench.offers import main

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
def test_offers_benchmark_runs(bootstrap_servers: str, tmp_path: Path) -> None:
    report = main(["--customers", "30", "--rate", "30", "--queries", "40", "--partitions", "2",
                   "--bootstrap-servers", bootstrap_servers, "--output", str(tmp_path / "offers.md")])
    assert "| offer processor: answer" in report and "| baseline: bare Kafka" in report
    assert "30 of 30" in report and "## Offer query" in report and "| publish_acked |" in report
    assert (tmp_path / "offers.md").read_text() == report
    again = main(["--customers", "5", "--rate", "30", "--queries", "5", "--partitions", "2",
                  "--bootstrap-servers", bootstrap_servers, "--output", str(tmp_path / "offers.md")])
    assert (tmp_path / "offers.md").read_text() == again + "\n---\n\n## Earlier run\n\n" + report.removeprefix(
        "# Offer processor benchmark\n").strip() + "\n"
