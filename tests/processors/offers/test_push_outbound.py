"""tester30 F4: marketing's SMS and e-mail pushes as channels of their own, counted by the cross-channel caps.

An offer on ``SMS`` / ``EMAIL`` goes to the gateway's own instruction topic with ``not_before`` from quiet hours, and
only the addresses the gateway sends to; the gateway's report (an ``OfferPresented`` / ``OfferResponded`` whose
``correlation_id`` is the instruction's event id) counts for the instructed customer, in the caps of every channel;
an answer anywhere withdraws the push.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.definition import Cap
from processors.offers.outputs import Batch
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.world import World, actions

PHONE, EMAIL, NID = "PHONE:+393480000001", "EMAIL:anna@example.it", "NATIONAL_ID:RSSNNA62M60L219X"
PUSHED = ["SMS", "EMAIL", "CALL_CENTER"]


def instruction(batch: Batch, channel: str, action: str = "SHOW") -> dict[str, Any]:
    (found,) = [o.event.value for o in batch.outgoing
                if o.event.value.get("channel") == channel and o.event.value.get("action") == action]
    return found


def report(world: World, shown: dict[str, Any], schema: str = "OfferPresented", *,
           identifiers: tuple[str, ...] = (), **extra: Any) -> Event:
    """What the gateway publishes on marketing.responses.v1 once it sent the instruction ``shown``."""
    event_id = world.id()
    value = {"envelope": {**envelope(event_id, world.now, shown["channel"]),
                          "correlation_id": shown["envelope"]["event_id"]},
             "offer_id": shown["offer_id"], "offer_version": shown["offer_version"], "channel": shown["channel"],
             "customer_identifiers": [ident(k) for k in identifiers], "agent_id": None,
             "presentation_id": shown["envelope"]["event_id"], **extra}
    return Event(f"omnibus.marketing.{schema}", value)


def test_an_offer_on_sms_and_email_goes_to_their_own_topics_with_their_addresses_only() -> None:
    world = World()
    world.created("cus_1", NID, PHONE, EMAIL)
    batch = world.feed(defined(offer("boiler", channels=PUSHED, content={"default": "Boiler care", "SMS": "Short"})))
    assert actions(batch) == [("SHOW", "CALL_CENTER", "cus_1", "boiler"), ("SHOW", "SMS", "cus_1", "boiler"),
                              ("SHOW", "EMAIL", "cus_1", "boiler")]
    topics = {o.event.value["channel"]: o.topic for o in batch.outgoing}
    assert topics["SMS"] == "omnibus.marketing.instructions.sms.v1"
    assert topics["EMAIL"] == "omnibus.marketing.instructions.email.v1"
    sms, mail, call = (instruction(batch, c) for c in ("SMS", "EMAIL", "CALL_CENTER"))
    assert sms["content"] == "Short" and mail["content"] == "Boiler care"
    # the gateway gets the address it sends to, never the national id (nor the other kind of address)
    assert sms["customer_identifiers"] == sms["lookup_identifiers"] == [ident(PHONE)]
    assert mail["customer_identifiers"] == mail["lookup_identifiers"] == [ident(EMAIL)]
    assert call["lookup_identifiers"] == [ident(NID), ident(PHONE), ident(EMAIL)]  # the call center's, as before


def test_an_outbound_push_waits_for_the_end_of_quiet_hours_in_the_customers_zone() -> None:
    settings = OffersSettings(policy=ContactPolicy(quiet_hours={"start": "21:00", "end": "08:00"}),
                              default_timezone="Europe/Rome")
    world = World(settings)
    world.now = datetime.fromisoformat("2026-12-03T21:30:00+00:00")  # 22:30 in Rome
    world.created("cus_1", PHONE, EMAIL)
    batch = world.feed(defined(offer("boiler", channels=["SMS", "EMAIL"])))
    for channel in ("SMS", "EMAIL"):
        assert instruction(batch, channel)["not_before"] == datetime.fromisoformat("2026-12-04T07:00:00+00:00")


@pytest.mark.parametrize(("channel", "address"), [("SMS", PHONE), ("EMAIL", EMAIL)])
def test_no_push_to_a_customer_without_an_address_of_the_channels_kind(channel: str, address: str) -> None:
    world = World()
    other = EMAIL if channel == "SMS" else PHONE
    world.created("cus_1", NID, other)
    batch = world.feed(defined(offer("boiler", channels=[channel])))
    assert not batch.instructions and ("suppressed", ("no_address", channel)) in batch.counts
    linked = world.feed(Event("omnibus.identity.CustomerLinked", {
        "envelope": envelope(world.id()), "customer_id": "cus_1", "identifiers": [ident(address)]}))
    assert instruction(linked, channel)["customer_identifiers"] == [ident(address)]


LANDLINE, US_PHONE = "PHONE:+390612345678", "PHONE:+12015550123"  # a Rome landline; a US number, mobile or not


def test_mends32_an_sms_carries_the_customers_mobiles_never_a_landline() -> None:
    world = World()
    world.created("cus_1", LANDLINE, PHONE, US_PHONE)
    sms = instruction(world.feed(defined(offer("boiler", channels=["SMS"]))), "SMS")
    assert sms["customer_identifiers"] == [ident(PHONE)]
    assert sms["lookup_identifiers"] == [ident(PHONE), ident(US_PHONE)]  # FIXED_LINE_OR_MOBILE counts as a mobile


def test_mends32_a_customer_with_only_a_landline_gets_no_sms_and_it_is_counted_as_no_mobile() -> None:
    world = World()
    world.created("cus_1", LANDLINE, EMAIL)
    batch = world.feed(defined(offer("boiler", channels=["SMS", "EMAIL"])))
    assert actions(batch) == [("SHOW", "EMAIL", "cus_1", "boiler")]
    assert ("suppressed", ("no_mobile", "SMS")) in batch.counts
    linked = world.feed(Event("omnibus.identity.CustomerLinked", {
        "envelope": envelope(world.id()), "customer_id": "cus_1", "identifiers": [ident(PHONE)]}))
    assert instruction(linked, "SMS")["lookup_identifiers"] == [ident(PHONE)]


@pytest.mark.parametrize("identifiers", [(), (PHONE,)], ids=["no identifiers", "the address"])
def test_the_gateways_report_counts_in_the_cross_channel_cap(identifiers: tuple[str, ...]) -> None:
    policy = ContactPolicy(caps=(Cap(max=1, per="7d"),), quiet_hours=None)
    world = World(OffersSettings(policy=policy, default_timezone="UTC"))
    world.created("cus_1", PHONE)
    sms = instruction(world.feed(defined(offer("boiler", channels=["SMS"]))), "SMS")
    sent = report(world, sms, identifiers=identifiers)
    assert ("presented", ("SMS",)) in world.feed(sent).counts
    assert [row[1:3] for row in world.customer("cus_1")["ledger"]] == [["SMS", "boiler"]]
    # the SMS was this customer's one contact of the week: the call center is not told to pitch another offer
    other = world.feed(defined(offer("fibre", channels=["CALL_CENTER"])))
    assert not other.instructions and ("suppressed", ("contact_cap", "CALL_CENTER")) in other.counts
    # a delivery receipt repeating the same report (same event id) is counted once
    world.feed(sent)
    assert len(world.customer("cus_1")["ledger"]) == 1


def test_the_report_counts_for_the_instructed_customer_not_the_keeper_of_the_address() -> None:
    """A report naming an identifier another customer keeps (a family phone Anna keeps, echoed by a campaign tool
    that merges its contact lists) still counts for Marco, whose instruction it answers."""
    world = World()
    world.created("cus_anna", PHONE)
    world.created("cus_marco", "USER_ID:marco", EMAIL)
    mail = instruction(world.feed(defined(offer("boiler", channels=["EMAIL"]))), "EMAIL")
    assert mail["customer_id"] == "cus_marco"
    world.feed(report(world, mail, identifiers=(PHONE,)))
    assert world.customer("cus_marco")["ledger"] and not world.customer("cus_anna").get("ledger")


def test_an_opt_out_at_the_gateway_withdraws_the_offer_everywhere() -> None:
    world = World()
    world.created("cus_1", PHONE)
    sms = instruction(world.feed(defined(offer("boiler", channels=["SMS", "CALL_CENTER"]))), "SMS")
    batch = world.feed(report(world, sms, "OfferResponded", response="OPTED_OUT"))
    assert sorted(actions(batch)) == [("WITHDRAW", "CALL_CENTER", "cus_1", "boiler"),
                                      ("WITHDRAW", "SMS", "cus_1", "boiler")]
    assert {(i.reason, i.answered_channel) for i in batch.instructions} == {("OPTED_OUT", "SMS")}


def test_accepted_at_the_counter_is_no_longer_pushed_by_sms_or_email() -> None:
    world = World()
    world.created("cus_1", PHONE, EMAIL)
    world.feed(defined(offer("boiler", channels=["SMS", "EMAIL", "BRANCH"])))
    batch = world.offer_event("OfferResponded", PHONE, "boiler", "BRANCH", response="ACCEPTED")
    withdrawn = {(i.action, i.channel, i.reason, i.answered_channel) for i in batch.instructions}
    assert {("WITHDRAW", c, "ACCEPTED", "BRANCH") for c in ("SMS", "EMAIL")} <= withdrawn
    assert instruction(batch, "SMS", "WITHDRAW")["customer_identifiers"] == [ident(PHONE)]


def test_the_default_policy_caps_each_outbound_channel_at_one_a_day() -> None:
    caps = ContactPolicy().caps
    assert {(c.channel, c.max, c.per) for c in caps if c.channel in ("SMS", "EMAIL")} == {
        ("SMS", 1, 86400), ("EMAIL", 1, 86400)}


def test_default_push_channels_include_the_outbound_gateways() -> None:
    assert {"SMS", "EMAIL"} <= set(OffersSettings().push_channels)

