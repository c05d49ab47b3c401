"""The facts the handoff tracker keeps of the legacy systems' account and product events (``tier_fact``): which fact
of one account or subscription wins (a dated one over an undated one, offers29's leftover)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bus.serde import Event
from processors.handoffs.config import TierPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.tier_facts import TierFact, tier_fact
from tests.processors.handoffs.factories import T0
from tests.processors.handoffs.test_customers import business

H = timedelta(hours=1)
TIERS = TierPolicy(products={"CARE-PLUS": "premium"})
EXPORTED = T0 - 2 * H  # an undated export's time: its lines' occurred_at
CLOSED = T0 - 72 * H  # a dated close, three days before the export


def fact(kind: str, account: str, at, *, undated: bool = False, **fields) -> Event:
    """A business event of ``kind`` on ``account`` at ``at``, marked ``undated`` when its source gave no time."""
    event = business(kind, account, at, **fields)
    return Event(event.schema, {**event.value, "undated": undated})


def directory(*events: Event, owners: dict[str, list[dict]] | None = None) -> CustomerDirectory:
    found = CustomerDirectory(ready=True)
    for customer, identifiers in (owners or {}).items():
        for identifier in identifiers:
            found.assign(f"{identifier['type']}:{identifier['value']}", customer)
    for event in events:
        each = tier_fact(event)
        assert each is not None
        found.record(each)
    return found


# (the dated fact, the undated one): a close dated before an undated open, and a cancellation dated before an
# undated subscription of a product that gives a tier: the dated fact stands, whatever the instants
DATED_OVER_UNDATED = {
    "account": (fact("AccountClosed", "A-1", CLOSED, reason="moved"),
                fact("AccountOpened", "A-1", EXPORTED, undated=True, account_type="current", service_tier="premium")),
    "subscription": (fact("ProductCancelled", "A-1", CLOSED, subscription_id="S-1", product_code="CARE-PLUS"),
                     fact("ProductSubscribed", "A-1", EXPORTED, undated=True, subscription_id="S-1",
                          product_code="CARE-PLUS")),
}
BASE = fact("AccountOpened", "A-1", CLOSED - H, account_type="current", service_tier=None)  # the account, no tier


@pytest.mark.parametrize("order", [0, 1], ids=["dated-first", "undated-first"])
@pytest.mark.parametrize("kind", sorted(DATED_OVER_UNDATED))
def test_a_dated_fact_outranks_an_undated_one_whatever_the_instants_and_the_order(kind: str, order: int) -> None:
    """offers29's leftover: an undated master export (stamped at the export, after the close) gave a closed account's,
    or a cancelled product's, tier to handoffs."""
    dated, undated = DATED_OVER_UNDATED[kind]
    events = [dated, undated] if order == 0 else [undated, dated]
    found = directory(*([BASE] if kind == "subscription" else []), *events, owners={"cus_a": [
        {"type": "ACCOUNT", "value": "A-1"}]})
    assert found.tier_of("cus_a", TIERS) is None


@pytest.mark.parametrize("undated", [False, True], ids=["both-dated", "both-undated"])
def test_between_two_facts_alike_in_dating_the_later_instant_wins(undated: bool) -> None:
    closed = fact("AccountClosed", "A-1", CLOSED, undated=undated, reason="moved")
    reopened = fact("AccountOpened", "A-1", EXPORTED, undated=undated, account_type="current", service_tier="premium")
    for events in itertools.permutations([closed, reopened]):
        found = directory(*events, owners={"cus_a": [{"type": "ACCOUNT", "value": "A-1"}]})
        tier = found.tier_of("cus_a", TIERS)
        assert tier is not None and tier.tier == "premium", events


def test_a_fact_of_an_older_version_reads_as_dated() -> None:
    old = b'{"key":"ACCOUNT:A-1","account":"A-1","active":true,"at_us":1,"event_id":"e","schema":"s","tier":"gold",' \
          b'"product_code":null}'
    read = TierFact.from_json(old)
    assert (read.undated, read.tier) == (False, "gold")
    undated = tier_fact(DATED_OVER_UNDATED["account"][1])
    assert undated is not None and undated.undated and TierFact.from_json(undated.to_json()) == undated
