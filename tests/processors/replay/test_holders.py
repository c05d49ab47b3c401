"""Who held an identifier at each instant, from releases and claims as announced (``processors.replay.holders``).

Times are small integers (epoch µs); each announcement reaches Kafka at its ``occurred_at`` (``customer_event``). A
claim's triggering event occurred at the instant ``OCCURRED`` gives it, before the claim's announcement."""

from __future__ import annotations

from typing import Any

from processors.replay import Replayed
from processors.replay.holders import HolderHistory, Tenure, holder_history
from tests.processors.verify.support import customer_event

PHONE = {"type": "PHONE", "value": "+33699887701"}
KEY = "PHONE:+33699887701"
OCCURRED = {"rec-dave": 20, "rec-erin": 40}  # the recycled records' instants (the inputs read back)


def created(customer: str, at: int, *identifiers: dict[str, str]) -> Replayed:
    return customer_event("CustomerCreated", customer, f"created-{customer}", at, customer_id=customer,
                          identifiers=list(identifiers), lineage={"triggering_event_id": f"ev-{customer}",
                                                                  "channel": "BUSINESS_SYSTEM", "rule": "co-observed"})


def linked(customer: str, at: int, trigger: str, rule: str = "earliest-claim") -> Replayed:
    return customer_event("CustomerLinked", customer, f"linked-{customer}-{rule}-{at}", at, customer_id=customer,
                          identifier=PHONE, lineage={"triggering_event_id": trigger, "channel": "BUSINESS_SYSTEM",
                                                     "rule": rule})


def released(customer: str, at: int) -> Replayed:
    fields: dict[str, Any] = {"identifier": PHONE, "customer_id": customer, "evicted": True, "operator": "ops-1",
                              "lineage": {"triggering_event_id": f"cmd-{at}", "channel": "BACK_OFFICE",
                                          "rule": "manual-release"}}
    return customer_event("LinkRefused", customer, f"released-{at}", at, **fields)


def holders(*announcements: Replayed) -> HolderHistory:
    return holder_history(list(announcements), OCCURRED)


def at(history: HolderHistory, *instants: int) -> list[str | None]:
    return [history.held_then(KEY, instant) for instant in instants]


def test_who_held_it_then_is_the_customer_the_next_release_took_it_from() -> None:
    history = holders(released("cus_dave", 20), released("cus_carol", 10))
    assert at(history, 5, 10, 15, 25) == ["cus_carol", "cus_dave", "cus_dave", None]
    assert history.held_then("PHONE:2", 5) is None


def test_a_claim_then_a_release() -> None:
    """F12: Carol held it, Dave's recycled record (20) claimed it, an operator released it from Dave (30): a contact
    before 20 was Carol's (the release alone said Dave's), one between Dave's, one after: its current customer."""
    history = holders(created("cus_carol", 1, PHONE), linked("cus_dave", 25, "rec-dave"), released("cus_dave", 30))
    assert history.tenures == {KEY: [Tenure(30, "cus_dave"), Tenure(20, "cus_carol")]}
    assert at(history, 5, 19, 20, 29, 30) == ["cus_carol", "cus_carol", "cus_dave", "cus_dave", None]


def test_a_release_then_a_claim() -> None:
    """Released from Carol (10); Dave's record linked it (15); Erin's recycled record (40) claimed it from Dave."""
    history = holders(created("cus_carol", 1, PHONE), released("cus_carol", 10), linked("cus_dave", 15, "rec-d",
                                                                                      rule="co-observed"),
                      linked("cus_erin", 45, "rec-erin"))
    assert at(history, 5, 12, 39, 40, 50) == ["cus_carol", "cus_dave", "cus_dave", None, None]


def test_two_claims_then_a_release() -> None:
    history = holders(created("cus_carol", 1, PHONE), linked("cus_dave", 25, "rec-dave"),
                      linked("cus_erin", 45, "rec-erin"), released("cus_erin", 50))
    assert at(history, 5, 20, 39, 40, 49, 50) == ["cus_carol", "cus_dave", "cus_dave", "cus_erin", "cus_erin", None]


def test_a_release_a_claim_and_a_release() -> None:
    history = holders(created("cus_carol", 1, PHONE), released("cus_carol", 10),
                      created("cus_dave", 15, PHONE), linked("cus_erin", 45, "rec-erin"), released("cus_erin", 50))
    assert at(history, 5, 12, 40, 49, 50) == ["cus_carol", "cus_dave", "cus_erin", "cus_erin", None]


def test_the_giver_is_the_last_other_customer_linked_before_the_claim() -> None:
    """Copies and the claimant's own earlier link (its record's refused first link, announced at the same instant)
    name no giver; a claim whose triggering event was not read back closes at its announcement's instant."""
    carol = created("cus_carol", 1, PHONE)
    history = holders(carol, carol, linked("cus_dave", 25, "rec-dave", rule="co-observed"),
                      linked("cus_dave", 25, "rec-dave"), linked("cus_erin", 60, "not-read-back"))
    assert history.tenures[KEY] == [Tenure(20, "cus_carol"), Tenure(60, "cus_dave")]
