"""The directory feed and a schema registry that does not answer: the row waits (``bus.follow``), it is not skipped.

The feed counted such a row unreadable and skipped it, so the tracker's directory missed an assignment or a
placement until its next start; a row the registry answers "no such schema" for is still counted and skipped.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from bus.errors import SchemaRegistryError
from bus.serde import SerdeContext
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.directory_feed import DirectoryFeed
from tests.support.settings import isolated_settings


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(self, data: bytes | None, ctx: SerdeContext) -> Any:
        raise self.error


def _unreadable(topic: str) -> float:
    return REGISTRY.get_sample_value("omnibus_handoff_directory_unreadable_total", {"topic": topic}) or 0.0


def test_a_row_met_in_a_registry_outage_is_handed_back_to_the_follower_and_a_poison_row_is_still_skipped() -> None:
    settings = isolated_settings("localhost:9")
    topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
    down = DirectoryFeed(settings, CustomerDirectory(), Failing(SchemaRegistryError("unreachable", retriable=True)))
    before = _unreadable(topic)
    with pytest.raises(SchemaRegistryError):
        down.apply(topic, b"EMAIL:a@example.org", b"\x00\x00\x00\x00\x07row")
    assert _unreadable(topic) == before  # not counted as unreadable: the follower waits and calls again

    poison = DirectoryFeed(settings, CustomerDirectory(), Failing(SchemaRegistryError("answered 404", status=404)))
    poison.apply(topic, b"EMAIL:a@example.org", b"\x00\x00\x00\x00\x09row")
    assert _unreadable(topic) == before + 1
