"""The facts the handoff tracker keeps of the legacy systems' account and product events (``tier_facts``): which fact
of one account or subscription wins (a dated one over an undated one, offers29's leftover), and every holder of a joint
account (tester29 F2: the second holder's handoffs got the default tier ``standard``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bus.clock import from_micros
from bus.serde import Event
from processors.handoffs.config import TierPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.state import TierSource
from processors.handoffs.tier_facts import HOLDER_KINDS, TierFact, tier_facts
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_customers import POLICY, World, business

H = timedelta(hours=1)
TIERS = TierPolicy(products={"CARE-PLUS": "premium"})
EXPORTED = T0 - 2 * H  # an undated export's time: its lines' occurred_at
CLOSED = T0 - 72 * H  # a dated close, three days before the export
JOINT = "ES9121000418450200051332"
ANA = [{"type": "ACCOUNT", "value": JOINT}, {"type": "CUSTOMER_NUMBER", "value": "C-100001"},
       {"type": "PHONE", "value": "+34611000001"}]
LUIS = [{"type": "ACCOUNT", "value": JOINT}, {"type": "CUSTOMER_NUMBER", "value": "C-100002"},
        {"type": "NATIONAL_ID", "value": "nid1:5a1d0c3e"}, {"type": "PHONE", "value": "+34611000002"}]
FAMILY_EMAIL = {"type": "EMAIL", "value": "familia@example.es"}


def fact(kind: str, account: str, at, *, undated: bool = False, **fields) -> Event:
    """A business event of ``kind`` on ``account`` at ``at``, marked ``undated`` when its source gave no time."""
    event = business(kind, account, at, **fields)
    return Event(event.schema, {**event.value, "undated": undated})


def line(holder: list[dict], tier: str = "premium", at=EXPORTED) -> Event:
    """One holder's ``AccountOpened`` line of the joint account, with the holder's keys."""
    event = business("AccountOpened", JOINT, at, account_type="current", service_tier=tier)
    return Event(event.schema, {**event.value, "customer_identifiers": holder})


def directory(*events: Event, owners: dict[str, list[dict]] | None = None) -> CustomerDirectory:
    found = CustomerDirectory(ready=True)
    for customer, identifiers in (owners or {}).items():
        for identifier in identifiers:
            found.assign(f"{identifier['type']}:{identifier['value']}", customer)
    for event in events:
        for each in tier_facts(event):
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


def test_a_fact_of_an_older_version_reads_as_dated_and_holds_no_holder() -> None:
    old = b'{"key":"ACCOUNT:A-1","account":"A-1","active":true,"at_us":1,"event_id":"e","schema":"s","tier":"gold",' \
          b'"product_code":null}'
    read = TierFact.from_json(old)
    assert (read.undated, read.holder, read.tier) == (False, None, "gold")
    for each in tier_facts(line(LUIS)):
        assert TierFact.from_json(each.to_json()) == each


def test_each_line_of_a_joint_account_names_its_holder_by_its_own_keys_only() -> None:
    """The holder facts of one line: its customer number and national ID (``HOLDER_KINDS``), never the phone, nor the
    account itself (identity gives that to one holder)."""
    account, *holders = tier_facts(line(LUIS))
    assert account.key == f"ACCOUNT:{JOINT}" and account.tier == "premium" and account.holder is None
    assert sorted(h.holder for h in holders) == ["CUSTOMER_NUMBER:C-100002", "NATIONAL_ID:nid1:5a1d0c3e"]
    assert all(h.account == JOINT and h.key.startswith("HOLDER:") for h in holders)
    assert {"PHONE", "EMAIL", "ACCOUNT"}.isdisjoint(HOLDER_KINDS)
    closed = fact("AccountClosed", JOINT, EXPORTED, reason="closed")
    assert [f.key for f in tier_facts(closed)] == [f"ACCOUNT:{JOINT}"]  # a close names no holder


@pytest.mark.parametrize("order", list(itertools.permutations(["ana", "luis", "assignments"])),
                         ids="-".join)
def test_the_second_holder_of_a_joint_account_gets_its_tier_in_every_order(order: tuple[str, ...]) -> None:
    """tester29 F2 as reported: the IBAN is Ana's customer's (the first holder keeps it); Luis holds his customer
    number and DNI. Both get the joint account's tier, whatever was read first."""
    found = CustomerDirectory(ready=True)
    steps = {
        "ana": lambda: [found.record(f) for f in tier_facts(line(ANA))],
        "luis": lambda: [found.record(f) for f in tier_facts(line(LUIS))],
        "assignments": lambda: [found.assign(f"{i['type']}:{i['value']}", customer)
                                for customer, ids in (("cus_ana", ANA), ("cus_luis", LUIS[1:])) for i in ids],
    }
    for step in order:
        steps[step]()
    for customer in ("cus_ana", "cus_luis"):
        tier = found.tier_of(customer, TIERS)
        assert tier is not None and tier.tier == "premium", customer
    assert found.accounts_of("cus_luis") == {JOINT}


def test_a_shared_phone_or_e_mail_on_a_line_makes_no_holder() -> None:
    """The family e-mail is on Bruno's premium line, and identity gave it to Anne: Anne gets no tier of Bruno's."""
    bruno = [{"type": "ACCOUNT", "value": "B-1"}, {"type": "CUSTOMER_NUMBER", "value": "K-2"}, FAMILY_EMAIL]
    event = business("AccountOpened", "B-1", EXPORTED, account_type="residential", service_tier="premium")
    found = directory(Event(event.schema, {**event.value, "customer_identifiers": bruno}),
                      owners={"cus_anne": [FAMILY_EMAIL], "cus_bruno": bruno[:2]})
    assert found.tier_of("cus_anne", TIERS) is None
    assert found.tier_of("cus_bruno", TIERS) is not None


def test_a_closed_joint_account_gives_no_holder_its_tier() -> None:
    closed = fact("AccountClosed", JOINT, T0 - H, reason="closed")
    found = directory(line(ANA), line(LUIS), closed, owners={"cus_ana": ANA, "cus_luis": LUIS[1:]})
    assert found.tier_of("cus_ana", TIERS) is None and found.tier_of("cus_luis", TIERS) is None


async def test_the_second_holders_handoff_is_timed_by_the_joint_accounts_tier() -> None:
    """tester29 F2 through the tracker: Luis' counter handoff (his phone) is due in the premium tier's 4 h, as Ana's."""
    world = World(POLICY)
    world.assign("cus_ana", *ANA)
    world.assign("cus_luis", *LUIS[1:])
    world.business(line(ANA, at=T0 - 24 * H), line(LUIS, at=T0 - 24 * H))
    await world.send(created("h1", channel="BRANCH", tier=None, identifiers=[LUIS[-1]]))
    state = world.state()
    assert (state.customer_id, state.service_tier, state.tier_source) == ("cus_luis", "premium", TierSource.CUSTOMER)
    assert from_micros(state.deadline_us) == T0 + 4 * H
