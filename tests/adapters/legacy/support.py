"""Samples and small helpers shared by the legacy-adapter tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.legacy.config import LegacySettings
from adapters.legacy.mapper import LegacyContext
from bus.config import TopicSettings
from bus.topics import BUSINESS_EVENTS

SAMPLES = Path(__file__).parent / "samples"  # files made to test a fault (a mistyped IBAN, a misspelt event)
# the example layouts and files docs/legacy-batch.md offers to copy (tester32 F17): one copy, the tests read them there
EXAMPLES = Path(__file__).parents[3] / "docs" / "examples" / "layouts"
SOURCE = "billing-db"


def outbox_rows() -> list[dict[str, Any]]:
    return json.loads((SAMPLES / "outbox_rows.json").read_text())


def legacy_context(topics: TopicSettings | None = None) -> LegacyContext:
    return LegacyContext(SOURCE, BUSINESS_EVENTS.name(topics or TopicSettings()), "EUR")


def legacy_settings(state_dir: Path, dsn: str | None = None, **overrides: Any) -> LegacySettings:
    return LegacySettings.model_validate({"state_dir": state_dir, "database_url": dsn, **overrides})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
