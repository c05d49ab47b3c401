"""Issue #8, tester18 F1: a joint account's holder's own line is on her own screen pop, whatever its kind.

A billing export has one line per holder of a joint account (``JNT-T18-1``: Luc, then Emma, the same account and
event time, each with their own name, birth date, e-mail and phone). The account is kept by one holder, shared with
the other (``test_joint_holders.py``); when the other holder's line ranks first on it (equal event times: the event
id's hash decides) her customer claims it (``claim_node.py``). The entries her own line fed stay on her screen pop
all the same (``ProfileBook.split``'s ``TOLD``): before, a claim took the keeper's ``ProductSubscribed`` entry along
with the account, so both holders' products showed on one pop and the other's showed ``products: []``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from processors.profile.limits import ProfileLimits
from processors.profile.sections.products import NS, ProductsSection
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, every_order, feed, landed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

AT = datetime(2024, 3, 1, 9, tzinfo=UTC)  # both lines' event time: the account's opening date
ACCOUNT = "JNT-T18-1"
HOLDERS = {
    "luc": {"full_name": "Luc Martin", "birth_date": "1970-02-14", "email": "luc.martin@t18.example",
            "phone": "+33611001803"},
    "emma": {"full_name": "Emma Martin", "birth_date": "1972-09-03", "email": "emma.martin@t18.example",
             "phone": "+33611001804"},
}
# Each business event kind the legacy adapter publishes, with the fields of one holder's line (``{h}``: the holder).
KINDS: dict[str, dict[str, Any]] = {
    "AccountOpened": {"account_type": "joint-current", "service_tier": "standard"},
    "AccountClosed": {"reason": "moved abroad"},
    "ProductSubscribed": {"subscription_id": "S-{h}", "product_code": "CURRENT-JOINT",
                          "product_name": "Joint current account", "effective_at": AT},
    "ProductCancelled": {"subscription_id": "S-{h}", "product_code": "CURRENT-JOINT", "effective_at": AT},
    "BillIssued": {"bill_id": "B-{h}", "amount": "39.90", "currency": "EUR", "period_start_date": "2024-02-01",
                   "period_end_date": "2024-02-29", "due_date": "2024-03-20"},
    "PaymentOverdue": {"bill_id": "B-{h}", "amount_due": "39.90", "currency": "EUR", "due_date": "2024-02-20"},
    "OrderStatusChanged": {"order_id": "O-{h}", "status": "in progress", "product_code": "CURRENT-JOINT"},
}
# Sources name the event ids (``make_envelope``), hence which line ranks first on the account at equal times:
# with "billing-db" Luc's line does, with "d" Emma's (both orders of the keeper's claim are covered).
SOURCES = ("billing-db", "d")
PRODUCTS = ProductsSection(ProfileLimits())


def holder_line(kind: str, holder: str, source: str) -> list[tuple[Event, str]]:
    """What ``omnibus adapter legacy import-batch`` publishes for the holder's line: the business event and its
    record with the holder's name and birth date (tester18's layout: the demo's plus ``email`` and ``phone``)."""
    own = {name: value.format(h=holder) if isinstance(value, str) else value for name, value in KINDS[kind].items()}
    fields = {"account_number": ACCOUNT, **HOLDERS[holder], **own}
    mapped = map_business(BusinessRecord(kind, fields, f"batch:t18:{holder}", AT),
                          LegacyContext(source, BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def held(h: Harness, customer: str) -> set[str]:
    """The screen pop entries (``<kind>/<id>``) the customer's profile holds."""
    profile = h.local.store.get_profile(customer) or {}
    return PRODUCTS.holds(profile.get(PRODUCTS.name) or {})


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_holders_own_line_is_on_her_own_screen_pop_in_every_order(kind: str, source: str) -> None:
    lines = {holder: holder_line(kind, holder, source) for holder in HOLDERS}
    own = {holder: PRODUCTS.entries(items[0][0])[0] for holder, items in lines.items()}
    for items in every_order([*lines["luc"], *lines["emma"]]):
        h = Harness(settings())
        feed(h, items)
        customers = {holder: h.customer("EMAIL", HOLDERS[holder]["email"]) for holder in HOLDERS}
        assert customers["luc"] is not None and customers["emma"] is not None
        assert customers["luc"] != customers["emma"]
        order = [f"{event.schema.removeprefix(NS)}:{event.value['envelope']['source_event_id']}" for event, _ in items]
        for holder, customer in customers.items():
            assert customer is not None
            assert landed(h, lines[holder][0][0]) == {root(h, customer)}, order
            assert own[holder] in held(h, customer), order  # her own line's entry on her own screen pop ...
            others = {other for name, other in own.items() if name != holder} - {own[holder]}
            assert not others & held(h, customer), order  # ... and not the other holder's line
        h.local.check_consistent()
