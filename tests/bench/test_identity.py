"""Keeps the identity benchmark runnable: a tiny run against the test broker (no speed asserted)."""

from pathlib import Path

import pytest

from tests.bench.identity import main

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(300)
def test_identity_benchmark_runs(bootstrap_servers: str, tmp_path: Path) -> None:
    report = main(["--events", "300", "--partitions", "2", "--latency-seconds", "1", "--memory-identifiers", "2000",
                   "--skip-scaling", "--timeout", "240",
                   "--bootstrap-servers", bootstrap_servers, "--output", str(tmp_path / "identity.md")])
    for run in ("bare aiokafka", "bare faust", "batched faust pass-through", "minimum writes of a repeat contact",
                "single-writer baseline", "identity processor", "Floor under the identity processor"):
        assert run in report
    assert "two workers" in report and "p99" in report and "met**" in report
    assert (tmp_path / "identity.md").read_text() == report
