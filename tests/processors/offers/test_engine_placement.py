"""Facts count for the customer identity placed their event on, never the keeper of a shared identifier (tester15 F3).

Every billing and handoff event reaches the offer processor twice: from its own topic (``business.events.v1``,
``handoff.events.v1``) and as identity's copy on ``customer.contacts.v1``, keyed by the customer the screen pop
puts it on. Each test feeds both, as the broker does; only the copy may count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers.campaigns import defined
from tests.processors.offers.factories import T0, envelope, ident, offer
from tests.processors.offers.world import World, actions

# The Moreau couple share one e-mail (Pierre keeps it); the Petit household one landline (Lucie keeps it).
PIERRE, SYLVIE, ANNE, LUCIE = "cus_pierre", "cus_sylvie", "cus_anne", "cus_lucie"
FAMILY_EMAIL, SYLVIE_MOBILE = "EMAIL:famille.moreau@free.fr", "PHONE:+33699887766"
LANDLINE, ANNE_EMAIL, LUCIE_EMAIL = "PHONE:+33478998877", "EMAIL:anne.petit@sfr.fr", "EMAIL:lucie.petit@sfr.fr"


def business(world: World, name: str, account: str, *keys: str, **fields: Any) -> Event:
    return Event(f"omnibus.business.{name}", {
        "envelope": envelope(world.id(), world.now, "BUSINESS_SYSTEM"), "account_number": account,
        "customer_identifiers": [ident(k) for k in keys], "traits_event_id": None, **fields})


def opened(world: World, account: str, *keys: str, account_type: str, tier: str = "standard") -> Event:
    return business(world, "AccountOpened", account, *keys, account_type=account_type, service_tier=tier,
                    status="OPEN", opened_at=T0)


def overdue(world: World, account: str, *keys: str, days: int = 30) -> Event:
    return business(world, "PaymentOverdue", account, *keys, bill_id="F-991", amount_due=None, due_date=None,
                    days_overdue=days)


def placed(world: World, event: Event, customer_id: str) -> Any:
    """The event from its own topic (must not count), then identity's copy under ``customer_id``."""
    world.feed(event)
    return world.feed(event, customer_id, from_contacts=True)


def linked(world: World, customer_id: str, key: str) -> None:
    world.feed(Event("omnibus.identity.CustomerLinked", {
        "envelope": envelope(world.id()), "customer_id": customer_id, "identifier": ident(key), "lineage": {}}))


def profile(world: World, customer_id: str) -> dict[str, Any]:
    return world.customer(customer_id)["profile"]


def test_the_billing_line_of_the_wife_on_the_shared_email_counts_for_her_not_for_the_emails_keeper() -> None:
    """The tester's sample: Pierre identified on the web with the family e-mail; Sylvie's billing line carries it too.
    Identity puts the account on Sylvie's screen pop; her segment must be "residential" and Pierre's "" ."""
    world = World()
    world.created(PIERRE, "USER_ID:u-pmoreau", FAMILY_EMAIL)
    world.feed(defined(offer("green", eligibility='segment == "residential"', channels=["CALL_CENTER"])))
    line = opened(world, "420000000033", SYLVIE_MOBILE, FAMILY_EMAIL, account_type="residential")
    world.feed(line)  # business.events.v1: read before identity's decision, and the e-mail names Pierre
    assert profile(world, PIERRE).get("segment") is None
    world.created(SYLVIE, "ACCOUNT:420000000033", SYLVIE_MOBILE)
    batch = world.feed(line, SYLVIE, from_contacts=True)
    assert profile(world, SYLVIE)["segment"] == "residential" and profile(world, SYLVIE)["service_tier"] == "standard"
    assert actions(batch) == [("SHOW", "CALL_CENTER", SYLVIE, "green")]
    assert profile(world, PIERRE).get("segment") is None and "green" not in world.customer(PIERRE)["offers"]


def test_the_billing_line_of_the_mother_on_the_family_landline_counts_for_her_not_for_its_keeper() -> None:
    world = World()
    world.created(ANNE, ANNE_EMAIL)
    world.created(LUCIE, LUCIE_EMAIL, LANDLINE)  # Lucie keeps the landline (earliest claim)
    world.feed(defined(offer("pro", eligibility='segment == "business"', channels=["CALL_CENTER"])))
    batch = placed(world, opened(world, "410000000022", LANDLINE, ANNE_EMAIL, account_type="business", tier="gold"),
                   ANNE)
    assert actions(batch) == [("SHOW", "CALL_CENTER", ANNE, "pro")]
    assert profile(world, ANNE)["segment"] == "business" and not profile(world, LUCIE)


def test_a_fact_placed_before_identity_announces_its_customer_waits_for_it() -> None:
    """Identity's copy keyed by a customer it has not announced on customer.events yet: kept, pushed once named."""
    world = World()
    world.feed(defined(offer("green", eligibility='segment == "residential"', channels=["CALL_CENTER"])))
    line = opened(world, "420000000033", SYLVIE_MOBILE, FAMILY_EMAIL, account_type="residential")
    assert not world.feed(line).outgoing  # nobody known yet: before, it waited on the e-mail for Pierre
    assert not world.feed(line, SYLVIE, from_contacts=True).instructions  # no identifier locates her yet
    world.created(PIERRE, "USER_ID:u-pmoreau", FAMILY_EMAIL)
    batch = world.created(SYLVIE, "ACCOUNT:420000000033", SYLVIE_MOBILE)
    assert actions(batch) == [("SHOW", "CALL_CENTER", SYLVIE, "green")]
    assert profile(world, PIERRE).get("segment") is None


def test_arrears_after_a_housemate_claimed_the_landline_stay_with_the_account_holder() -> None:
    """Anne kept the landline when her account was opened; her daughter claims it later. The account's later bill
    (carrying the landline) is still Anne's: her arrears, her signal."""
    world = World()
    world.created(ANNE, ANNE_EMAIL, LANDLINE, "ACCOUNT:410000000022")
    world.feed(defined(offer("help", eligibility="days_overdue >= 15", channels=["CALL_CENTER"])))
    placed(world, opened(world, "410000000022", LANDLINE, account_type="business"), ANNE)
    world.created(LUCIE, LUCIE_EMAIL)
    linked(world, LUCIE, LANDLINE)  # the claim: the landline now names Lucie
    world.now = T0 + timedelta(days=40)
    batch = placed(world, overdue(world, "410000000022", LANDLINE), ANNE)
    assert actions(batch) == [("SHOW", "CALL_CENTER", ANNE, "help")]
    assert [o.event.value["customer_id"] for o in batch.outgoing if o.event.schema.endswith("RetentionSignal")] \
        == [ANNE]
    assert world.customer(ANNE)["overdue"] == {"F-991": 30} and not world.customer(LUCIE)["overdue"]


def test_signals_and_products_follow_the_placement_too() -> None:
    """Every billing fact source (products, orders, arrears) and handoff events: the copy's customer only."""
    world = World()
    world.created(ANNE, ANNE_EMAIL)
    world.created(LUCIE, LUCIE_EMAIL, LANDLINE)
    product = business(world, "ProductSubscribed", "410000000022", LANDLINE, subscription_id="s1",
                       product_code="GAS", product_name="Gas", effective_at=T0)
    port_out = business(world, "OrderStatusChanged", "410000000022", LANDLINE, order_id="o1", status="RECEIVED",
                        previous_status=None, source_status="PORT-OUT requested", product_code=None)
    breached = Event("omnibus.handoff.HandoffStatusChanged", {
        "envelope": envelope(world.id()), "customer_identifiers": [ident(LANDLINE)], "handoff_id": "h1", "version": 3,
        "status": "IN_PROGRESS", "cause": "omnibus.handoff.HandoffBreached", "case_type": "billing"})
    kinds = []
    for event in (product, port_out, breached):
        batch = placed(world, event, ANNE)
        kinds += [(o.event.value["customer_id"], o.event.value["kind"]) for o in batch.outgoing
                  if o.event.schema.endswith("RetentionSignal")]
    assert kinds == [(ANNE, "PORT_OUT_REQUEST"), (ANNE, "HANDOFF_BREACHED")]
    assert list(world.customer(ANNE)["products"]) == ["GAS"] and not world.customer(LUCIE)["products"]
    assert not world.customer(LUCIE)["signals"]


def test_a_split_moves_the_billing_facts_that_came_through_the_moved_identifiers() -> None:
    """A wrong merge put Sylvie's account on Pierre; the operator's split moves the account and her mobile: her
    segment and arrears go with them, and Pierre's "residential" offer is withdrawn."""
    world = World()
    account = "ACCOUNT:420000000033"
    world.created(PIERRE, "USER_ID:u-pmoreau", FAMILY_EMAIL, account, SYLVIE_MOBILE)
    world.feed(defined(offer("green", eligibility='segment == "residential"', channels=["CALL_CENTER"])))
    placed(world, opened(world, "420000000033", SYLVIE_MOBILE, account_type="residential"), PIERRE)
    placed(world, overdue(world, "420000000033"), PIERRE)
    batch = world.feed(Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": PIERRE, "new_customer_id": SYLVIE,
        "moved_identifiers": [ident(account), ident(SYLVIE_MOBILE)], "reason": "two people", "lineage": {}}))
    assert ("WITHDRAW", "CALL_CENTER", PIERRE, "green") in actions(batch)
    assert ("SHOW", "CALL_CENTER", SYLVIE, "green") in actions(batch)
    assert profile(world, SYLVIE)["segment"] == "residential" and world.customer(SYLVIE)["overdue"] == {"F-991": 30}
    assert "segment" not in profile(world, PIERRE) and not world.customer(PIERRE)["overdue"]


ROBERT, OTHER_ROBERT = "cus_robert", "cus_other_robert"
ROBERT_EMAIL, ROBERT_PHONE = "EMAIL:robert.durand@example.org", "PHONE:+33145000011"


def premium_line_split_off(world: World, account: str, written: str, *keys: str) -> None:
    """Robert holds ``account`` (identity's key) and ``keys``; his premium ``AccountOpened`` names the account
    ``written`` and carries ``keys``; the operator splits ``account`` off. The premium tier is the account's
    (``processors.profile.about``): it goes with it and counts for the new customer only."""
    world.created(ROBERT, account, *keys)
    world.feed(defined(offer("care", eligibility='service_tier == "premium"', channels=["CALL_CENTER"])))
    placed(world, opened(world, written, *keys, account_type="residential", tier="premium"), ROBERT)
    batch = world.feed(Event("omnibus.identity.CustomerSplit", {
        "envelope": envelope(world.id()), "source_customer_id": ROBERT, "new_customer_id": OTHER_ROBERT,
        "moved_identifiers": [ident(account)], "reason": "another Robert", "lineage": {}}))
    assert ("WITHDRAW", "CALL_CENTER", ROBERT, "care") in actions(batch)
    assert ("SHOW", "CALL_CENTER", OTHER_ROBERT, "care") in actions(batch)
    assert profile(world, OTHER_ROBERT)["service_tier"] == "premium" and "service_tier" not in profile(world, ROBERT)
    assert "segment" not in profile(world, ROBERT)


def test_a_customer_master_line_split_off_by_its_account_counts_its_tier_for_the_new_customer_only() -> None:
    """tester17 M1: Robert's AccountOpened carried the account, his IBAN, e-mail and phone; the operator split the
    account EDF-700001 off. The premium tier is the account's: it goes with it, as the screen pop's account row
    does, and counts for the new customer only."""
    premium_line_split_off(World(), "ACCOUNT:EDF-700001", "EDF-700001", "ACCOUNT:FR7630006000011234567890189",
                           ROBERT_EMAIL, ROBERT_PHONE)


@pytest.mark.parametrize("written", ["900001", "ca 900001"])
def test_a_line_another_producer_sent_under_its_own_spelling_of_the_account_follows_the_accounts_split(
        written: str) -> None:
    """tester17 M1 with ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT='{"prefix": "CA-"}'``: identity keys Robert's
    contract ``ACCOUNT:CA-900001``, a billing system that is no Omnibus adapter writes it ``900001``. The premium tier
    is still the account's (``intake.identifier_keys`` and ``about`` in the format): it goes with the account's
    split."""
    premium_line_split_off(World(account_format=NumberFormat(prefix="CA-")), "ACCOUNT:CA-900001", written,
                           ROBERT_EMAIL, ROBERT_PHONE)


def test_an_answer_goes_to_the_customer_of_its_most_specific_identifier_not_the_landlines_keeper() -> None:
    """The fallback for an answer with no contact of its own (its correlation is its own event id: nothing places
    it, ``test_engine_answer_placement``): the most specific identifier decides (a user id before the family
    landline), as identity ranks them."""
    world = World()
    world.created(ANNE, "USER_ID:u-anne", ANNE_EMAIL)
    world.created(LUCIE, LUCIE_EMAIL, LANDLINE)
    world.feed(defined(offer("pro", channels=["WEB", "CALL_CENTER"])))
    world.feed(Event("omnibus.marketing.OfferResponded", {
        "envelope": envelope(world.id(), world.now, "CALL_CENTER"), "offer_id": "pro", "offer_version": 1,
        "channel": "CALL_CENTER", "customer_identifiers": [ident(LANDLINE), ident("USER_ID:u-anne")],
        "agent_id": "a1", "presentation_id": None, "response": "DECLINED"}))
    assert world.customer(ANNE)["offers"]["pro"]["status"] == "DECLINED"
    assert world.customer(LUCIE)["offers"]["pro"]["status"] != "DECLINED"


def test_a_contact_an_operator_moved_counts_for_the_customer_it_was_moved_to_only() -> None:
    """``omnibus identity move-contact``: the call leaves Anne's contacts (and repeat-contact evidence); its copy on
    customer.contacts under Lucie counts there. Before, it counted for both."""
    world = World()
    world.created(ANNE, ANNE_EMAIL)
    world.created(LUCIE, LUCIE_EMAIL)
    call = Event("omnibus.contact.InteractionRecorded", {
        "envelope": envelope("call-1", T0, "CALL_CENTER"), "interaction_id": "c1",
        "customer_identifiers": [ident(LANDLINE)], "kind": "CALL", "name": "billing", "outcome": "RESOLVED",
        "agent_id": "a1", "duration_ms": 1, "properties": {}})
    world.feed(call, ANNE, from_contacts=True)
    assert [row[3] for row in world.customer(ANNE)["contacts"]] == ["call-1"]
    world.feed(Event("omnibus.identity.ContactMoved", {
        "envelope": envelope(world.id()), "contact_id": "c1", "source_customer_id": ANNE, "target_customer_id": LUCIE,
        "moved_event_ids": ["call-1"], "operator": "alice", "reason": "Lucie's call", "lineage": {}}))
    copy = Event(call.schema, {**call.value, "envelope": {**call.value["envelope"], "event_id": "moved-1",
                                                          "causation_id": "call-1"}})
    world.feed(copy, LUCIE, from_contacts=True)
    world.feed(call, ANNE, from_contacts=True)  # redelivered late: not counted again
    assert not world.customer(ANNE)["contacts"]
    assert [row[3] for row in world.customer(LUCIE)["contacts"]] == ["moved-1"]


def test_the_traits_of_a_billing_lines_observation_wait_for_its_account_not_the_shared_email() -> None:
    """The legacy line's IdentifiersObserved (Sylvie's city and country) is read before identity links its account:
    it waits for the account's customer instead of going to Pierre through the e-mail he keeps."""
    world = World()
    world.created(PIERRE, "USER_ID:u-pmoreau", FAMILY_EMAIL)
    observed = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope(world.id(), world.now, "BUSINESS_SYSTEM"),
        "identifiers": [ident(SYLVIE_MOBILE), ident(FAMILY_EMAIL), ident("ACCOUNT:420000000033")],
        "traits": {"given_name": "Sylvie", "city": "Saint-Etienne", "country": "fr"}})
    assert ("unresolved_parked", ()) in world.feed(observed).counts
    assert not world.customer(PIERRE)["profile"]
    world.created(SYLVIE, "ACCOUNT:420000000033", SYLVIE_MOBILE)
    assert profile(world, SYLVIE) == {"region": "FR", "city": "Saint-Etienne"}
    assert not world.customer(PIERRE)["profile"]


def test_a_joint_accounts_holders_products_stay_each_with_its_holder_when_one_claims_the_account() -> None:
    """tester18 F1: one line per holder of JNT-T18-1, each with the holder's e-mail; identity puts each on its holder,
    Emma keeps the account, then Luc's customer claims it (his line ranks first on it). Each holder's product counts
    for that holder, as on the screen pop; the account's overdue bill (no holder named) for its keeper alone."""
    luc, emma, account = "cus_luc", "cus_emma", "ACCOUNT:JNT-T18-1"
    luc_email, emma_email = "EMAIL:luc.martin@t18.example", "EMAIL:emma.martin@t18.example"
    world = World()
    world.created(emma, emma_email, account)
    world.created(luc, luc_email)
    for customer, key, code in ((luc, luc_email, "CURRENT-JOINT"), (emma, emma_email, "SAVINGS-JOINT")):
        placed(world, business(world, "ProductSubscribed", "JNT-T18-1", key, subscription_id=f"S-{code}",
                               product_code=code, product_name=None, effective_at=None), customer)
    linked(world, luc, account)  # the claim: the account moves to Luc's customer
    placed(world, overdue(world, "JNT-T18-1"), luc)
    assert set(world.customer(luc)["products"]) == {"CURRENT-JOINT"}
    assert set(world.customer(emma)["products"]) == {"SAVINGS-JOINT"}
    assert world.customer(luc)["overdue"] == {"F-991": 30} and not world.customer(emma)["overdue"]
