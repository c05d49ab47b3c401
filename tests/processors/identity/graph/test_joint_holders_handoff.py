"""Tester21 F20: a handoff opened by the joint account's other holder is hers, not the keeper's.

Luc and Emma hold one account, kept by Luc's customer (``test_joint_holders``). Emma opens a back-office case at the
counter (the account, her name and birth date given to the clerk) or from an unknown phone at the call center (the
account and her IVR name and birth date). Her visit's contact events name the record with her traits and land on
her; the ``HandoffCreated`` of the same visit must land on her too (identity re-keys it onto ``customer.contacts.v1``
where it lands, and the handoff tracker takes that placement: its notifications, tier and screen pop), never on the
keeper through the account alone.
"""

from __future__ import annotations

import uuid

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Resolved
from tests.processors.identity.graph.test_joint_holders import (
    ACCOUNT,
    EMMA,
    EMMA_EMAIL,
    LUC_EMAIL,
    billing_line,
    every_order,
    feed,
    landed,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, envelope, ident, interaction
from tests.processors.identity.support import matcher_settings as settings

OBSERVED, CONTACTS, HANDOFFS = "identity.observed.v1", "contact.events.v1", "handoff.events.v1"
UNKNOWN_PHONE = ("PHONE", "+33600000001")


def visit(channel: str, identifiers: list[tuple[str, str]]) -> list[tuple[Event, str]]:
    """Emma's visit as the branch / call-center mapper publishes it: the record with her traits, the contact and
    the handoff it opened, both naming the record (``traits_event_id``)."""
    correlation = str(uuid.uuid4())
    sibling = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": {**envelope(channel, minutes=30), "correlation_id": correlation},
        "identifiers": [ident(*i) for i in identifiers], "traits": EMMA})
    traits_event_id = sibling.value["envelope"]["event_id"]
    kind = "COUNTER_TRANSACTION" if channel == "BRANCH" else "CALL"
    contact = interaction(list(identifiers), channel=channel, kind=kind, minutes=30, interaction_id="tx-mg-1")
    contact.value["envelope"]["correlation_id"] = correlation
    contact.value["traits_event_id"] = traits_event_id
    handoff = Event("omnibus.handoff.HandoffCreated", {
        "envelope": {**envelope(channel, minutes=30), "correlation_id": correlation},
        "handoff_id": f"{channel.lower()}:tx-mg-1", "customer_identifiers": [ident(*i) for i in identifiers],
        "case_type": "mortgage-question", "summary": "a quote", "intake_facts": {}, "origin_channel": channel,
        "origin_site": None, "origin_interaction_id": "tx-mg-1", "service_tier": None,
        "actor": {"kind": "EMPLOYEE", "id": "clerk-5"}, "traits_event_id": traits_event_id})
    return [(contact, CONTACTS), (handoff, HANDOFFS), (sibling, OBSERVED)]


@pytest.mark.parametrize(("channel", "identifiers"), [
    ("BRANCH", [ACCOUNT]), ("CALL_CENTER", [UNKNOWN_PHONE, ACCOUNT]),
], ids=["counter", "call-center"])
def test_the_handoff_opened_by_the_other_holder_lands_on_her_in_every_order(
        channel: str, identifiers: list[tuple[str, str]]) -> None:
    items = visit(channel, identifiers)
    for order in every_order(items):
        h = Harness(settings())
        feed(h, [*billing_line("luc", 2), *billing_line("emma", 3)])
        feed(h, order)
        emma, luc = root(h, h.customer(*EMMA_EMAIL) or ""), root(h, h.customer(*LUC_EMAIL) or "")
        assert emma != luc and root(h, h.local.store.nodes[h.key(*ACCOUNT)].owner) == luc  # Luc keeps the account
        names = [event.schema.rsplit(".", 1)[1] for event, _ in order]
        assert landed(h, items[0][0]) == {emma}, names  # her visit (as before)
        assert landed(h, items[1][0]) == {emma}, names  # ... and the case it opened
        h.local.check_consistent()


@pytest.mark.parametrize(("channel", "identifiers"), [
    ("BRANCH", [ACCOUNT]), ("CALL_CENTER", [UNKNOWN_PHONE, ACCOUNT]),
], ids=["counter", "call-center"])
def test_a_case_naming_the_joint_account_alone_follows_the_other_holders_visit_in_every_order(
        channel: str, identifiers: list[tuple[str, str]]) -> None:
    """The case names the account alone and not her traits (a back-office form filled in after the visit): it
    reaches the account's keeper, Luc, who never held the visit (or held it before her traits came); it goes where
    the visit is, on Emma (``handoff_moves.contact_placed``): its latest placement, which the tracker reads."""
    items = visit(channel, identifiers)
    case = items[1][0]
    case.value.update(customer_identifiers=[ident(*ACCOUNT)], traits_event_id=None)
    for order in every_order(items):
        h = Harness(settings())
        feed(h, [*billing_line("luc", 2), *billing_line("emma", 3)])
        feed(h, order)
        emma = root(h, h.customer(*EMMA_EMAIL) or "")
        names = [event.schema.rsplit(".", 1)[1] for event, _ in order]
        assert landed(h, items[0][0]) == {emma}, names
        [*_, latest] = [r for r in h.decisions(Resolved) if r.triggering_event_id == case.value["envelope"]["event_id"]]
        assert root(h, latest.customer_id) == emma, names
        h.local.check_consistent()
