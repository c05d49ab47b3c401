"""Operators' merges and splits read back from their announcements and replayed in a recomputation
(``processors.replay.operators``)."""

from __future__ import annotations

from dataclasses import replace

from processors.identity.graph.saga import born_at, customer_id
from processors.replay import Replayed
from processors.replay.operators import OperatorMerge, OperatorSplit, announced_commands, apply_command
from processors.replay.releases import Release
from tests.processors.identity.support import Harness, observed
from tests.processors.verify.support import INPUT, customer_event

EMAIL = {"type": "EMAIL", "value": "ann@example.org"}
PHONE = {"type": "PHONE", "value": "+33699887701"}
NEW = customer_id(7_000_000, "cmd-s")


def _lineage(token: str, rule: str) -> dict[str, str]:
    return {"triggering_event_id": token, "channel": "BACK_OFFICE", "rule": rule}


def _merged(event_id: str, offset: int, rule: str = "manual-merge") -> Replayed:
    return customer_event("CustomerMerged", "cus_a", event_id, offset, survivor_customer_id="cus_a",
                          merged_customer_id="cus_b", moved_identifiers=[EMAIL], operator="ops-1", reason="one",
                          lineage=_lineage(f"cmd-{event_id}", rule))


def _split(event_id: str, offset: int) -> Replayed:
    return customer_event("CustomerSplit", "cus_a", event_id, offset, source_customer_id="cus_a",
                          new_customer_id=NEW, moved_identifiers=[PHONE], reason="wrong", operator="ops-2",
                          lineage=_lineage("cmd-s", "manual-split"))


def test_a_customer_id_tells_its_birth() -> None:
    assert born_at(customer_id(1_234_567_890_123_456, "x")) == 1_234_567_890_123_456
    assert born_at("cus_a") is None and born_at("cus_" + "z" * 24) is None


def test_manual_merges_splits_and_releases_count_once_each_in_arrival_order() -> None:
    """A redelivered announcement counts once; a merge the matcher made is the recomputation's own."""
    release = customer_event("LinkRefused", "cus_a", "r1", 2, identifier=PHONE, customer_id="cus_a", evicted=True,
                             operator="ops-1", lineage=_lineage("cmd-r1", "manual-release"))
    events = [_split("s1", 3), _merged("m1", 1), _merged("m1", 1), _merged("m2", 0, rule="match-weight"), release,
              replace(_split("s1", 3), offset=4)]
    assert announced_commands(events) == [
        OperatorMerge("cus_a", "cus_b", ("EMAIL:ann@example.org",), "cmd-m1", "ops-1", "one", 1),
        Release("PHONE:+33699887701", 2, 2, "cmd-r1", "cus_a", "ops-1", "BACK_OFFICE"),
        OperatorSplit("cus_a", NEW, ("PHONE:+33699887701",), "cmd-s", 7_000_000, "wrong", "ops-2", "BACK_OFFICE", 3)]


def test_a_split_goes_to_the_customer_of_its_identifiers_when_the_recomputation_lacks_the_source() -> None:
    """Another arrival order made the customer under another id: the split still moves what it named, and the new
    customer gets the running processor's id (minted from the command id and its instant)."""
    h = Harness()
    h.feed(observed([("EMAIL", "ann@example.org"), ("PHONE", "+33699887701")]), INPUT)
    split = OperatorSplit("cus_elsewhere", NEW, (h.key("PHONE", "+33699887701"),), "cmd-s", 7_000_000, None, None,
                          "BACK_OFFICE", 0)
    assert apply_command(h.local, split)
    assert h.customer("PHONE", "+33699887701") == NEW != h.customer("EMAIL", "ann@example.org")


def test_a_command_whose_customers_the_recomputation_lacks_is_not_replayed() -> None:
    h = Harness()
    h.feed(observed([("EMAIL", "ann@example.org")]), INPUT)
    nobody = OperatorSplit("cus_x", NEW, ("PHONE:+33699887701",), "cmd-s", 7_000_000, None, None, "BACK_OFFICE", 0)
    merge = OperatorMerge("cus_x", "cus_y", ("PHONE:+33699887701",), "cmd-m", "ops", "one", 0)
    assert not apply_command(h.local, nobody) and not apply_command(h.local, merge)


def test_a_merge_joins_the_recomputed_customers_of_the_running_ids() -> None:
    h = Harness()
    h.feed(observed([("EMAIL", "ann@example.org")]), INPUT)
    h.feed(observed([("PHONE", "+33699887701")], minutes=1), INPUT)
    ann, phone = h.customer("EMAIL", "ann@example.org"), h.customer("PHONE", "+33699887701")
    assert ann is not None and phone is not None and ann != phone
    merge = OperatorMerge(min(ann, phone), max(ann, phone), (h.key("PHONE", "+33699887701"),), "cmd-m", "ops", "one", 0)
    assert apply_command(h.local, merge)
    assert h.customer("EMAIL", "ann@example.org") == h.customer("PHONE", "+33699887701") == min(ann, phone)


def _created(customer: str, event_id: str, offset: int, *identifiers: dict[str, str]) -> Replayed:
    return customer_event("CustomerCreated", customer, event_id, offset, customer_id=customer,
                          identifiers=list(identifiers), lineage=_lineage(event_id, "co-observed"))


def test_a_merge_carries_what_its_survivor_held_by_then() -> None:
    """What the running processor announced on the survivor before the merge: created with, linked, merged in, not
    what a split or a release took off, nor what came after."""
    mail_b, account = {"type": "EMAIL", "value": "bea@example.org"}, {"type": "ACCOUNT", "value": "AC-1"}
    events = [
        _created("cus_a", "c1", 0, PHONE), _created("cus_c", "c2", 1, mail_b),
        customer_event("CustomerLinked", "cus_a", "l1", 2, customer_id="cus_a", identifier=account,
                       lineage=_lineage("l1", "co-observed")),
        customer_event("CustomerMerged", "cus_a", "m0", 3, survivor_customer_id="cus_a", merged_customer_id="cus_c",
                       moved_identifiers=[mail_b], lineage=_lineage("m0", "match-weight")),
        customer_event("LinkRefused", "cus_a", "r1", 4, identifier=account, customer_id="cus_a", evicted=True,
                       operator="ops-1", lineage=_lineage("cmd-r1", "manual-release")),
        _merged("m1", 5), _created("cus_a", "c3", 6, {"type": "EMAIL", "value": "late@example.org"})]
    (merge,) = [command for command in announced_commands(events) if isinstance(command, OperatorMerge)]
    assert merge.survivor_held == ("EMAIL:bea@example.org", "PHONE:+33699887701")


def test_a_merge_goes_to_the_customer_of_its_survivors_identifiers_when_the_recomputation_minted_another_id() -> None:
    """Another event of the survivor's contact made it in the recomputation (verify reads the inputs topic by topic):
    the merge still joins the two (before, it was left out)."""
    h = Harness()
    h.feed(observed([("EMAIL", "ann@example.org")]), INPUT)
    h.feed(observed([("PHONE", "+33699887701")], minutes=1), INPUT)
    ann = h.customer("EMAIL", "ann@example.org")
    merge = OperatorMerge("cus_elsewhere", "cus_gone", (h.key("PHONE", "+33699887701"),), "cmd-m", "ops", "one", 0,
                          (h.key("EMAIL", "ann@example.org"),))
    assert apply_command(h.local, merge)
    assert h.customer("EMAIL", "ann@example.org") == h.customer("PHONE", "+33699887701") == ann
    assert not apply_command(h.local, replace(merge, survivor_held=("EMAIL:nobody@example.org",)))
