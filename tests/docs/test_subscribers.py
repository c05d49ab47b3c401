"""``docs/subscribers.md`` says what the contract holds (tester12: the envelope wording, M3 and M4)."""

from __future__ import annotations

from pathlib import Path

from bus.topics import ALL_TOPICS
from processors.identity.openapi import OPENAPI
from schemas.catalog import default_catalog

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "subscribers.md").read_text(encoding="utf-8")


def section(title: str, guide: str | None = None) -> str:
    """The text of the guide's ``## title`` section (to its next ``## ``)."""
    text = GUIDE if guide is None else guide
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def public_records() -> dict[str, set[str]]:
    """Full name of every record a public topic carries -> the topics carrying it."""
    found: dict[str, set[str]] = {}
    for spec in ALL_TOPICS:
        if not spec.internal:
            for name in spec.carries:
                found.setdefault(name, set()).add(spec.suffix)
    return found


def test_every_public_record_without_an_envelope_is_named_and_dedupe_is_per_topic() -> None:
    """tester12: the guide said every record starts with an envelope and to dedupe on envelope.event_id, while
    IdentifierAssignment and DeadLetter have none and one event id is on two topics (CustomerMerged)."""
    catalog = default_catalog()
    without = sorted(name.rsplit(".", 1)[1] for name in public_records()
                     if "envelope" not in {field["name"] for field in catalog.get(name).schema["fields"]})
    assert without, "some public record has no envelope (IdentifierAssignment at least)"
    reading = section("Reading a record")
    missing = [name for name in without if f"`{name}`" not in reading]
    assert not missing, f"docs/subscribers.md does not say these records have no envelope: {missing}"
    assert "dedupe **per topic**" in reading and "Every record starts with an `envelope`" not in GUIDE


def test_every_record_published_on_two_topics_is_named() -> None:
    shared = sorted(name.rsplit(".", 1)[1] for name, topics in public_records().items() if len(topics) > 1
                    and not name.endswith("OfferInstruction"))  # one instruction per channel: its own event id
    missing = [name for name in shared if f"`{name}`" not in section("Reading a record")]
    assert shared and not missing, (shared, missing)


def test_the_screen_pop_its_contract_and_where_names_travel_are_described() -> None:
    for path in OPENAPI["paths"]:
        if path.startswith("/customers"):
            assert f"GET {path}" in GUIDE, path
    assert "/openapi.json" in GUIDE
    assert "## Where the customer's name travels" in GUIDE and "`traits`" in GUIDE
