"""Smoke test: the in-process web-ingest profile runs (tiny size, no timing assertion)."""

from __future__ import annotations

import pytest

from tests.bench import web_ingest_profile


def test_the_profile_runs_the_ingest_path_and_reports_cpu_per_event() -> None:
    assert web_ingest_profile.main(["--events", "200", "--batch-size", "50"]) > 0


def test_the_profile_prints_each_stage(capsys: pytest.CaptureFixture[str]) -> None:
    web_ingest_profile.main(["--events", "100", "--batch-size", "50", "--stages"])
    printed = capsys.readouterr().out
    assert "Avro encoding (fastavro schemaless_writer)" in printed and "dedupe store" in printed


def test_the_profile_prints_the_parts_inside_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    web_ingest_profile.main(["--events", "100", "--batch-size", "50", "--parts"])
    printed = capsys.readouterr().out
    assert "Segment mapper, in the loop" in printed and "the rest" in printed
