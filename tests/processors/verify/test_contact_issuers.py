"""``omnibus verify`` sees one contact id from two issuers (``processors.verify.contact_issuers``).

The reported sample: two terminals' transaction ``T-100``, published with the bare id, made identity merge their two
customers while every check held. The check fails it; the ids the branch adapter publishes now (scoped by terminal),
a terminal's re-send and corrected upload, and a call's CTR versions pass.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from bus.serde import Event
from processors.verify.contact_issuers import ONE_ISSUER, check_contact_issuers
from processors.verify.report import Report
from tests.adapters.branch.test_mapper_terminals import mapped, reported
from tests.adapters.call_center.test_mapper_ctr import published_versions
from tests.processors.verify.support import CONTACTS, record

BEFORE_THE_UPGRADE = datetime(2027, 1, 1, tzinfo=UTC)  # every visit before it keeps its bare id


def on_contacts(events: list[Event]) -> Report:
    """The check over ``events`` as identity re-published them on ``customer.contacts``."""
    report = Report()
    check_contact_issuers([record(CONTACTS, "cus_1", event, offset) for offset, event in enumerate(events)], report)
    return report


def visits(uploads: Any, **overrides: Any) -> list[Event]:
    return [out.event for upload in uploads for out in mapped(upload, **overrides).events
            if out.event.schema.startswith("omnibus.contact.") and not out.event.schema.endswith("IdentifiersObserved")]


def test_the_reported_sample_two_terminals_bare_transaction_id_fails() -> None:
    failures = on_contacts(visits(reported(), scoped_ids_from=BEFORE_THE_UPGRADE)).check(ONE_ISSUER).failures
    assert len(failures) == 1 and "BRANCH contact T-100 came from 2 issuers" in failures[0]
    assert "CT-0001-01" in failures[0] and "CT-0002-01" in failures[0]


def test_the_scoped_ids_pass() -> None:
    report = on_contacts(visits(reported()))
    assert report.check(ONE_ISSUER).ok and report.check(ONE_ISSUER).checked == 2


def test_one_terminals_re_send_and_correction_are_one_issuer() -> None:
    first = reported()[0]
    corrected = copy.deepcopy(first)
    corrected["events"][0]["event_id"] = "tx-a-corrected"
    assert on_contacts(visits([first, first, corrected], scoped_ids_from=BEFORE_THE_UPGRADE)).check(ONE_ISSUER).ok


def test_a_calls_versions_are_one_issuer() -> None:
    report = on_contacts([event for version in published_versions(3) for event in version
                          if not event.schema.endswith("IdentifiersObserved")])
    assert report.check(ONE_ISSUER).ok and report.check(ONE_ISSUER).checked == 1
