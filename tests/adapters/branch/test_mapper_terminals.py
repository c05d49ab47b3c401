"""Two terminals' equal transaction ids are two visits (``adapters.base.issuers``).

The reported sample: terminals CT-0001-01 (branch B-0001) and CT-0002-01 (B-0002) both number their transactions, and
both uploaded a ``T-100`` on one day for two customers. The contacts carried the bare ``T-100``: identity took the
second for a corrected version of the first and merged the two customers; the KPIs counted one contact. Now every id
of a transaction that leaves the adapter names its terminal; one terminal's re-send or correction keeps its ids.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.mapper import MappedRecord
from adapters.branch.config import BranchSettings
from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import branch_settings
from tests.adapters.branch.test_mapper import by_schema

INTERACTION, CREATED = "omnibus.contact.InteractionRecorded", "omnibus.handoff.HandoffCreated"
FOLLOWED_UP, PRESENTED = "omnibus.handoff.HandoffFollowedUp", "omnibus.marketing.OfferPresented"
RECEIVED = datetime(2026, 12, 2, 12, tzinfo=UTC)  # a re-send's receipt is its own; fixed here to compare the rest


def visit(terminal: str, branch: str, event_id: str, transaction_id: Any, hour: int, phone: str,
          **section: Any) -> dict[str, Any]:
    """A terminal's upload of one transaction, as the counter agent sends it."""
    return {"terminal_id": terminal, "branch_id": branch, "events": [{
        "event_id": event_id, "kind": "transaction", "occurred_at": f"2026-12-02T{hour:02d}:00:00Z",
        "transaction": {"id": transaction_id, "type": "bill-payment", "status": "completed", **section},
        "identifiers": [{"type": "PHONE", "value": phone}]}]}


def reported(transaction_id: Any = "T-100", **section: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return (visit("CT-0001-01", "B-0001", "tx-a", transaction_id, 10, "+33612349301", **section),
            visit("CT-0002-01", "B-0002", "tx-b", transaction_id, 11, "+33612349302", **section))


def mapped(upload: dict[str, Any], **overrides: Any) -> MappedRecord:
    (event,) = upload["events"]
    mapper = CounterMapper(branch_settings(**overrides), TopicSettings())
    return mapper(copy.deepcopy(event), terminal_id=upload["terminal_id"], branch_id=upload["branch_id"],
                  received_at=RECEIVED)


def values(record: MappedRecord, schema: str) -> list[dict[str, Any]]:
    return [out.event.value for out in record.events if out.event.schema == schema]


@pytest.mark.parametrize("transaction_id", ["T-100", 1], ids=["text", "whole-number"])
def test_the_reported_sample_two_terminals_same_transaction_id_are_two_contacts(transaction_id: Any) -> None:
    first, second = (by_schema(mapped(upload)) for upload in reported(transaction_id))
    for events, terminal in ((first, "CT-0001-01"), (second, "CT-0002-01")):  # the screen pop's id, the KPIs' key
        assert events["InteractionRecorded"]["interaction_id"] == events["CounterTransaction"]["transaction_id"] \
            == f"counter:{terminal}:{transaction_id}"


def test_every_id_of_a_transaction_names_its_terminal_the_contact_its_case_and_its_pitch() -> None:
    offer = {"offer_id": "fibre-upgrade", "offer_version": 1, "response": "presented"}
    upload = reported(handoff={"kind": "card-dispute", "summary": "Card kept by the ATM"})[0]
    upload["events"][0]["offer"] = offer
    record = mapped(upload)
    (contact,), (case,), (pitch,) = values(record, INTERACTION), values(record, CREATED), values(record, PRESENTED)
    assert contact["interaction_id"] == case["origin_interaction_id"] == case["handoff_id"] \
        == pitch["presentation_id"] == "counter:CT-0001-01:T-100"


def test_a_follow_up_visit_names_its_own_terminals_contact() -> None:
    upload = reported(follow_up={"handoff_id": "REC-2026-000451", "summary": "Brought the statement"})[1]
    (follow_up,) = values(mapped(upload), FOLLOWED_UP)
    assert follow_up["interaction_id"] == "counter:CT-0002-01:T-100"


def test_one_terminals_re_send_and_correction_keep_the_contact() -> None:
    upload = reported()[0]
    again, corrected = copy.deepcopy(upload), copy.deepcopy(upload)
    corrected["events"][0]["event_id"] = "tx-a-corrected"
    corrected["events"][0]["identifiers"] = [{"type": "PHONE", "value": "+33612349309"}]
    first = mapped(upload)
    assert [o.event for o in mapped(again).events] == [o.event for o in first.events]  # a copy, the same ids
    (contact,), (correction,) = values(first, INTERACTION), values(mapped(corrected), INTERACTION)
    assert correction["interaction_id"] == contact["interaction_id"]


def test_a_transaction_before_the_upgrade_keeps_its_bare_id_so_its_re_send_is_a_duplicate() -> None:
    upgrade = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)  # between the two visits
    first, second = reported()
    assert values(mapped(first, scoped_ids_from=upgrade), INTERACTION)[0]["interaction_id"] == "T-100"
    scoped = values(mapped(second, scoped_ids_from=upgrade), INTERACTION)[0]["interaction_id"]
    assert scoped == "counter:CT-0002-01:T-100"
    # the events of the re-send are those published before the upgrade, ids and content
    before = values(mapped(first, scoped_ids_from=upgrade), INTERACTION)
    assert values(mapped(copy.deepcopy(first), scoped_ids_from=upgrade), INTERACTION) == before


def test_a_first_upload_after_the_upgrade_of_transactions_before_it_keeps_bare_ids_as_the_docs_say() -> None:
    """The documented limit of ``scoped_ids_from`` (a counter agent offline across the upgrade, tester52 F10): the
    instant is compared with ``occurred_at``, not with the upload, so two terminals' transactions before it keep their
    bare, equal ids even when uploaded for the first time after it (identity merges their customers:
    ``test_terminal_scoped_contacts``). The setting's description, docs/settings.md and the README say so."""
    upgrade = datetime(2026, 12, 2, 12, tzinfo=UTC)  # after both visits; both uploaded after it (``RECEIVED``)
    ids = {values(mapped(upload, scoped_ids_from=upgrade), INTERACTION)[0]["interaction_id"] for upload in reported()}
    assert ids == {"T-100"}
    said = BranchSettings.model_fields["scoped_ids_from"].description or ""
    assert "journal is drained" in said and "uploaded for the first time after it gets the bare id too" in said
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert "uploaded for the first time after it (a counter agent offline across the upgrade)" in " ".join(
        readme.split())
