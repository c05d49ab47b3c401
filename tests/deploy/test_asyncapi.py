"""The AsyncAPI document (docs/asyncapi.yaml): generated from the topic registry and schemas/, complete,
and accepted by the AsyncAPI CLI (`asyncapi validate`, installed by scripts/bootstrap.sh)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import avro.schema
import yaml
from typer.testing import CliRunner

from omnibus.cli import app
from bus.topics import ALL_TOPICS
from deploy.asyncapi import render
from deploy.outputs import ROOT
from schemas.catalog import default_catalog

DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
CLI = ROOT / "tools" / "asyncapi" / "node_modules" / ".bin" / "asyncapi"


def top_level_records() -> set[str]:
    """Records that travel on their own: every event (it has an envelope) and the identifier assignment."""
    found = {s.fullname for s in default_catalog() if s.schema.get("type") == "record"
             and any(field["name"] == "envelope" for field in s.schema["fields"])}
    return found | {"omnibus.identity.IdentifierAssignment", "omnibus.deadletter.DeadLetter"}


def test_every_record_type_travels_on_a_declared_topic_and_exists() -> None:
    carried = {name for spec in ALL_TOPICS for name in spec.carries}
    catalog = set(default_catalog().names())
    assert carried <= catalog, f"carried but not in schemas/: {sorted(carried - catalog)}"
    assert top_level_records() <= carried, f"on no topic: {sorted(top_level_records() - carried)}"
    for spec in ALL_TOPICS:
        assert spec.internal != bool(spec.carries), f"{spec.suffix}: internal topics carry no Avro, others do"


def test_the_document_has_every_public_topic_and_no_internal_one() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {f"omnibus.{spec.suffix}" for spec in ALL_TOPICS if not spec.internal}
    messages = document["components"]["messages"]
    assert {message["name"] for message in messages.values()} == {n for s in ALL_TOPICS for n in s.carries}
    for message in messages.values():
        assert default_catalog().get(message["name"]).schema == message["payload"]["schema"]
    assert document == render()


def test_every_payload_is_an_avro_schema_the_apache_library_parses() -> None:
    # `asyncapi validate` 4.1.1 does not run its Avro schema parser on payloads (a payload with the type
    # "longx" passes it), so the payloads are checked here with the reference implementation.
    for message in yaml.safe_load(DOCUMENT.read_text())["components"]["messages"].values():
        assert message["payload"]["schemaFormat"].startswith("application/vnd.apache.avro+json")
        parsed = avro.schema.parse(json.dumps(message["payload"]["schema"]))
        assert parsed.fullname == message["name"]


def test_asyncapi_validate_accepts_the_document(tmp_path: Path) -> None:
    assert CLI.is_file(), "the AsyncAPI CLI is missing: scripts/bootstrap.sh installs it (npm ci in tools/asyncapi)"
    result = subprocess.run([str(CLI), "validate", str(DOCUMENT)], capture_output=True, text=True, timeout=300,
                            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CI": "true"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "is valid" in output, output[-4000:]


def test_topics_list_says_what_each_topic_carries_and_which_are_internal() -> None:
    result = CliRunner().invoke(app, ["topics", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        if "identity.graph.v1" in line or "handoff.ticks.v1" in line:
            assert "INTERNAL" in line
    assert "InteractionRecorded" in result.output and "changelog" in result.output
