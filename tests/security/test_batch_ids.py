"""tester27 F4: a batch line's events carry its key's identifiers only in identifier records, never in an id.

The demo-run scan (``identifier_scan``) looks at every topic record; a layout keyed by a phone or an e-mail put them
in the events' ``source_event_id`` (``batch:<layout>:<phone>|<e-mail>``), which ``omnibus topics read`` shows as it
is. Here the same scan runs over what the importer publishes for such a line, for every identifier a key may hold
(an IBAN and a customer number too: the business topic's key is the account, where one may be)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.legacy.batch_lines import line_id
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.identifiers import IdentifierSettings
from tests.security.identifier_scan import scan_record

LINE = {"account_number": "FR7630006000011234567890189", "phone": "06 12 34 56 78", "email": "Paul.Martin@Example.fr",
        "card_number": "4970 1012 3456 7893", "national_id": "185057800608491", "customer_id": "C-0770002",
        "account_type": "current", "given_name": "Paul", "family_name": "Martin"}
KEY_COLUMNS = ["account_number", "phone", "email", "card_number", "national_id", "customer_id"]


@pytest.mark.parametrize("key", [[name] for name in KEY_COLUMNS] + [KEY_COLUMNS])
def test_tester27_f4_a_keyed_lines_events_hold_no_identifier_outside_identifier_records(key: list[str]) -> None:
    layout = Layout.model_validate({"name": "holders", "format": "csv", "event": "AccountOpened", "key": key,
                                    "fields": {name: {"column": name.upper()} for name in LINE}})
    settings = IdentifierSettings.model_validate({"hmac_key": "k" * 32, "default_region": "FR",
                                                  "national_id_schemes": ["fr.nir"]})
    ctx = LegacyContext("core", "business", identity_topic="observed", phone_region="FR", identifiers=settings)
    mapped = map_business(BusinessRecord("AccountOpened", LINE, line_id(layout, dict(LINE), "0" * 64, 2,
                                                                        ctx.normaliser), _at()), ctx)
    assert len(mapped.events) == 2  # the account and its holder's identifiers with traits
    known = ["4970101234567893", "185057800608491"]
    findings = [finding for out in mapped.events
                for finding in scan_record(out.topic, str(out.key), _plain(out.event.value), region="FR", known=known,
                                           customer_numbers=[LINE["customer_id"]],
                                           number_paths={"key"} if out.topic == "business" else ())]
    assert findings == [], [str(finding) for finding in findings]
    assert mapped.dedupe_id.startswith("core:batch:holders:key-")


def _at() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 12, 1, 9, tzinfo=UTC)


def _plain(value: Any) -> Any:
    """The event as a topic reader decodes it: datetimes as text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.isoformat() if hasattr(value, "isoformat") else value
