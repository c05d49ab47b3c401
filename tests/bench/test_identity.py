"""Keeps the identity benchmark runnable: a tiny run against the test broker."""

from pathlib import Path

import pytest

from tests.bench.identity import main

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
def test_identity_benchmark_runs(bootstrap_servers: str, tmp_path: Path) -> None:
    report = main(["--events", "200", "--partitions", "2", "--memory-identifiers", "2000",
                   "--bootstrap-servers", bootstrap_servers, "--output", str(tmp_path / "identity.md")])
    assert "events/s" in report and "ratio identity / baseline" in report
    assert (tmp_path / "identity.md").read_text() == report
