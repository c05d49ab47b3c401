"""Issue #13 build 7: a full demo run (``omnibus demo``: its own broker and registry, every adapter and processor,
scripted journeys on every channel) is scanned for customer identifiers in plain text.

- Every log line (DEBUG and up, the libraries' too, as the project's logging writes them) and every line the demo
  prints: no national ID, card number, phone number, e-mail address, IBAN or account number at all.
- Every record of every topic on the broker (public, internal and faust's changelogs; key, value and headers),
  decoded: no national ID or card number anywhere (they are tokenised at the adapter), phones and e-mail addresses
  only where the contract puts them, IBANs and account numbers there too and in the fields that carry them (a
  business event's ``account_number``, the key of ``business.events.v1``): see ``tests/security/identifier_scan.py``.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from pathlib import Path

import pytest

from bus.topics import BUSINESS_EVENTS, DEAD_LETTERS, IDENTITY_GRAPH
from demo.people import customers
from demo.run import MALFORMED_NATIONAL_ID
from tests.security.identifier_scan import Finding, scan_lines, scan_record
from tests.support.demo_run import DEMO_CUSTOMERS, DemoRun

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow, pytest.mark.timeout(900),
              pytest.mark.xdist_group("demo_run")]  # the worker of tests/demo's check of the same run: one demo
REGION = "FR"  # the demo's callers are French numbers


def key_text(key: bytes | None) -> str | None:
    """A key as text; faust's table changelogs hold JSON strings (``b'"EMAIL:ann@x.org"'``): their content."""
    if key is None:
        return None
    text = key.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        inner = json.loads(text)
        if isinstance(inner, str):
            return inner
    return text


def test_a_demo_run_shows_no_identifier_where_it_must_not_be(demo_run: DemoRun, tmp_path: Path) -> None:
    people = customers(DEMO_CUSTOMERS)
    national_ids = [person.national_id for person in people] + [MALFORMED_NATIONAL_ID]
    accounts = [person.account for person in people]  # billing's; the demo's people have no IBAN or customer number
    assert demo_run.ok, demo_run.console
    records = demo_run.records

    lines = demo_run.log_lines + demo_run.console.splitlines()
    assert len(lines) > 100, "the run logged almost nothing: is the logging captured?"
    findings: list[Finding] = scan_lines(lines, region=REGION, known=national_ids, accounts=accounts)

    (settings,) = demo_run.settings
    with open(tmp_path / "records.pickle", "wb") as dump:  # kept in pytest's temp folder, to read a failure offline
        pickle.dump(records, dump)
    dead_letters = DEAD_LETTERS.name(settings.topics)
    keyed_by_account = BUSINESS_EVENTS.name(settings.topics)
    # identity's graph messages and its node and contact-record changelogs carry the original event (registry-framed
    # Avro) as bytes
    identity_internal = {IDENTITY_GRAPH.name(settings.topics),
                         f"{settings.topics.prefix}.identity-identity-nodes-changelog",
                         f"{settings.topics.prefix}.identity-identity-contacts-changelog"}
    scanned = 0
    for topic, messages in records.items():
        for message in messages:
            scanned += 1
            where = f"{topic}[{message.partition}]@{message.offset}"
            headers = {name: value.decode("utf-8", errors="replace") for name, value in message.headers if value}
            findings += scan_record(where, key_text(message.key),
                                    {"record": message.decoded, "headers": headers},
                                    region=REGION,  # a dead letter's input too: its clear copy
                                    known=national_ids, embedded_records=topic in identity_internal,
                                    accounts=accounts, number_paths={"key"} if topic == keyed_by_account else ())
    assert scanned > 200, scanned
    summary = sorted({f"{f.kind} at {f.where.split('[')[0]} {f.where.split(' ', 1)[-1]}" for f in findings})
    assert not findings, f"{len(findings)} identifiers in plain text ({scanned} records, {len(lines)} lines):\n" + \
        "\n".join(summary[:80])
    (dead_letter,) = records[dead_letters]  # the demo's malformed identify: kept, tokens for the secrets, e-mail masked
    value = dead_letter.decoded["value"]
    assert b"x@example.com" not in value and b"x***@example.com" in value and b"nid1:" in value
    assert dead_letter.decoded["value"].count(b"card1:") == 1
