"""The graph rules, end to end through the protocol (one partition, messages in order)."""

from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.outputs import Assigned, Created, Linked, Merged, Refused, Resolved, Send, Split
from processors.identity.graph.saga import customer_id
from processors.identity.rules import MAX_PER_CUSTOMER, SHARED_IDENTIFIER, SPLIT_DO_NOT_MERGE
from tests.processors.identity.support import (
    Harness,
    interaction,
    matcher_settings,
    national_id,
    product_subscribed,
    settings,
)

NID_A, NID_B = national_id("11010519800101001"), national_id("11010519820202002")


def test_identifiers_seen_together_make_one_customer() -> None:
    h = Harness()
    event = h.observe(("PHONE", "13912345678"), ("EMAIL", "Ann@Example.org"), channel="WEB")
    (created,) = h.decisions(Created)
    assert set(created.identifiers) == {"PHONE:+8613912345678", "EMAIL:ann@example.org"}
    assert created.lineage.triggering_event_id == event.value["envelope"]["event_id"]
    assert (created.lineage.channel, created.lineage.rule) == ("WEB", "co-observed")
    assert h.customer("PHONE", "+8613912345678") == h.customer("EMAIL", "ann@example.org") == created.customer_id
    assert {a.identifier for a in h.decisions(Assigned)} == set(created.identifiers)
    h.local.check_consistent()


def test_customer_ids_sort_by_age() -> None:
    assert customer_id(1_000, "b") < customer_id(2_000, "a")
    assert customer_id(1_000, "a").startswith("cus_") and len(customer_id(1_000, "a")) == 28


def test_a_new_identifier_links_to_the_existing_customer() -> None:
    h = Harness()
    h.observe(("PHONE", "13912345678"), ("EMAIL", "ann@example.org"))
    event = h.observe(("EMAIL", "ann@example.org"), ("ACCOUNT", "ACC-1"), channel="CALL_CENTER")
    (linked,) = h.decisions(Linked)
    assert linked.identifier == "ACCOUNT:ACC-1" and linked.customer_id == h.customer("PHONE", "13912345678")
    assert linked.lineage.triggering_event_id == event.value["envelope"]["event_id"]
    assert linked.lineage.channel == "CALL_CENTER"
    assert len(h.decisions(Created)) == 1


def _three_customers(h: Harness) -> tuple[str, str, str]:
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a1@x.org"), minutes=0)
    h.observe(("ACCOUNT", "B1"), ("EMAIL", "b1@x.org"), minutes=10)
    h.observe(("ACCOUNT", "C1"), ("EMAIL", "c1@x.org"), minutes=20)
    return h.customer("ACCOUNT", "A1"), h.customer("ACCOUNT", "B1"), h.customer("ACCOUNT", "C1")  # type: ignore[return-value]


def test_a_merge_chain_ends_in_the_oldest_customer() -> None:
    h = Harness()
    oldest, middle, youngest = _three_customers(h)
    h.observe(("EMAIL", "b1@x.org"), ("EMAIL", "c1@x.org"))  # middle absorbs youngest
    h.observe(("EMAIL", "a1@x.org"), ("ACCOUNT", "B1"))  # oldest absorbs middle (and with it youngest)
    first, second = h.decisions(Merged)
    assert (first.survivor_id, first.merged_id) == (middle, youngest)
    assert set(first.moved) == {"ACCOUNT:C1", "EMAIL:c1@x.org"}
    assert (second.survivor_id, second.merged_id) == (oldest, middle)
    assert set(second.moved) == {"ACCOUNT:B1", "EMAIL:b1@x.org", "ACCOUNT:C1", "EMAIL:c1@x.org"}
    assert {h.customer("ACCOUNT", v) for v in ("A1", "B1", "C1")} == {oldest}
    latest = {a.identifier: a.customer_id for a in h.decisions(Assigned)}  # the compacted topic's last word
    assert set(latest.values()) == {oldest} and len(latest) == 6
    h.local.check_consistent()


def test_the_survivor_does_not_depend_on_the_order_of_merges() -> None:
    h = Harness()
    oldest, _, youngest = _three_customers(h)
    h.observe(("EMAIL", "a1@x.org"), ("ACCOUNT", "C1"))
    h.observe(("EMAIL", "b1@x.org"), ("EMAIL", "c1@x.org"))
    assert {h.customer("ACCOUNT", v) for v in ("A1", "B1", "C1")} == {oldest}
    assert [(m.survivor_id, m.merged_id) for m in h.decisions(Merged)][0] == (oldest, youngest)


def test_a_merge_that_would_break_a_limit_is_refused_and_recorded() -> None:
    h = Harness()
    h.observe(("NATIONAL_ID", NID_A), ("PHONE", "13900000001"), minutes=0)
    h.observe(("NATIONAL_ID", NID_B), ("EMAIL", "bo@x.org"), minutes=5)
    first, second = h.customer("PHONE", "13900000001"), h.customer("EMAIL", "bo@x.org")
    event = h.observe(("PHONE", "13900000001"), ("EMAIL", "bo@x.org"), minutes=9)  # later than both
    assert not h.decisions(Merged)
    (refused,) = h.decisions(Refused)
    assert refused.lineage.rule == MAX_PER_CUSTOMER and "NATIONAL_ID" in refused.reason
    assert refused.lineage.triggering_event_id == event.value["envelope"]["event_id"]
    assert {refused.customer_id, refused.other_customer_id} == {first, second}
    assert refused.identifier == "PHONE:+8613900000001"  # email outranks phone: the phone gives way
    assert (h.customer("PHONE", "13900000001"), h.customer("EMAIL", "bo@x.org")) == (first, second)
    h.local.check_consistent()


def test_a_merge_over_a_limit_keeps_the_emails_seen_first_and_evicts_the_other() -> None:
    """Issue #8 item 5: A has 3 e-mails, B has 3, the limit is 5. An event links them: they merge (a
    limit above one is a cap, not a sign of two people) and the e-mail seen last is evicted, as if the
    link had come first and the e-mails one by one."""
    h = Harness(settings(max_per_customer={"EMAIL": 5}))
    for minute, (account, email) in enumerate([("A1", "a1"), ("B1", "b1"), ("A1", "a2"), ("B1", "b2"),
                                               ("A1", "a3"), ("B1", "b3")]):
        h.observe(("ACCOUNT", account), ("EMAIL", f"{email}@x.org"), minutes=minute)
    first = h.customer("ACCOUNT", "A1")
    event = h.observe(("ACCOUNT", "A1"), ("ACCOUNT", "B1"), minutes=9)
    (merged,) = h.decisions(Merged)
    assert merged.survivor_id == first and "EMAIL:b3@x.org" not in merged.moved
    (refused,) = h.decisions(Refused)
    assert (refused.identifier, refused.lineage.rule, refused.evicted) == ("EMAIL:b3@x.org", MAX_PER_CUSTOMER, True)
    assert refused.lineage.triggering_event_id == event.value["envelope"]["event_id"]
    assert h.customer("EMAIL", "b3@x.org") is None
    assert {h.customer("EMAIL", f"{e}@x.org") for e in ("a1", "a2", "a3", "b1", "b2")} == {first}
    h.local.check_consistent()


def test_a_merge_is_refused_when_the_linking_identifier_itself_gives_way() -> None:
    h = Harness(settings(max_per_customer={"EMAIL": 1}))
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a@x.org"), minutes=0)
    h.observe(("ACCOUNT", "B1"), ("EMAIL", "b@x.org"), minutes=5)
    first, second = h.customer("ACCOUNT", "A1"), h.customer("ACCOUNT", "B1")
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "b@x.org"), minutes=9)  # b ranks after a: it cannot join A1's customer
    assert not h.decisions(Merged)
    (refused,) = h.decisions(Refused)
    assert (refused.identifier, refused.lineage.rule, refused.evicted) == ("EMAIL:b@x.org", MAX_PER_CUSTOMER, False)
    assert {refused.customer_id, refused.other_customer_id} == {first, second}
    h.local.check_consistent()


def test_the_lowest_priority_identifier_of_the_event_gives_way() -> None:
    h = Harness()
    h.observe(("NATIONAL_ID", NID_A), ("PHONE", "13900000001"))  # the mother
    mother = h.customer("PHONE", "13900000001")
    h.observe(("NATIONAL_ID", NID_B), ("PHONE", "13900000001"), ("EMAIL", "son@x.org"), minutes=1)  # the son, later
    son = h.customer("NATIONAL_ID", NID_B)
    assert son != mother and h.customer("EMAIL", "son@x.org") == son
    assert h.customer("PHONE", "13900000001") == mother
    (refused,) = h.decisions(Refused)
    assert refused.identifier == "PHONE:+8613900000001"
    assert (refused.customer_id, refused.other_customer_id) == (son, mother)


def test_an_event_meeting_a_customer_through_a_lower_priority_identifier_joins_it_by_rank() -> None:
    """Limit met through a lower-priority identifier (issue #8 item 5): the event's new e-mail joins the
    device's customer and the e-mail that ranks last gives way, as if they had arrived in time order."""
    h = Harness(settings(max_per_customer={"EMAIL": 2}))
    h.observe(("DEVICE", "dev-1"), ("EMAIL", "b@x.org"), minutes=2)
    h.observe(("DEVICE", "dev-1"), ("EMAIL", "c@x.org"), minutes=3)
    customer = h.customer("DEVICE", "dev-1")
    h.observe(("DEVICE", "dev-1"), ("EMAIL", "a@x.org"), minutes=1)  # occurred first, arrives last
    assert h.customer("EMAIL", "a@x.org") == h.customer("EMAIL", "b@x.org") == customer
    assert h.customer("EMAIL", "c@x.org") is None
    (refused,) = h.decisions(Refused)
    assert (refused.identifier, refused.evicted) == ("EMAIL:c@x.org", True)
    h.local.check_consistent()


def test_a_new_identifier_over_the_limit_is_not_linked() -> None:
    h = Harness(settings(max_per_customer={"EMAIL": 1}))
    h.observe(("USER_ID", "u-1"), ("EMAIL", "one@x.org"))
    customer = h.customer("USER_ID", "u-1")
    h.feed(interaction([("USER_ID", "u-1"), ("EMAIL", "two@x.org")], minutes=1))  # later: it gives way
    (refused,) = h.decisions(Refused)
    assert refused.identifier == "EMAIL:two@x.org" and refused.customer_id == customer
    assert h.customer("EMAIL", "two@x.org") is None
    assert [r.customer_id for r in h.decisions(Resolved)][-1] == customer  # the event still belongs to u-1
    h.local.check_consistent()


def test_a_phone_shared_by_too_many_customers_stops_linking() -> None:
    h = Harness(matcher_settings(shared_after={"PHONE": 2}))
    family = [national_id(f"1101051980010100{i}") for i in range(1, 4)]
    for number in family:
        h.observe(("NATIONAL_ID", number), ("PHONE", "13900000009"))
    customers = {h.customer("NATIONAL_ID", n) for n in family}
    assert len(customers) == 3  # three people, one phone: never merged
    h.observe(("PHONE", "13900000009"), ("EMAIL", "guest@x.org"))
    assert h.customer("EMAIL", "guest@x.org") not in customers  # the shared phone glued nothing
    rules = [r.lineage.rule for r in h.decisions(Refused)]
    assert rules.count(SHARED_IDENTIFIER) >= 1
    h.local.check_consistent()


def test_a_split_moves_identifiers_and_the_same_merge_never_comes_back() -> None:
    h = Harness()
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a@x.org"), minutes=0)
    h.observe(("ACCOUNT", "B1"), ("EMAIL", "b@x.org"), minutes=5)
    h.observe(("EMAIL", "a@x.org"), ("EMAIL", "b@x.org"))  # the wrong merge
    source = h.customer("ACCOUNT", "A1")
    assert h.customer("ACCOUNT", "B1") == source
    moved = ["ACCOUNT:B1", "EMAIL:b@x.org"]
    h.local.submit([_send(source, SplitCustomer(moved, "two people", "cmd-1", 1_000, "BACK_OFFICE"))])
    h.local.run()
    (split,) = h.decisions(Split)
    assert split.source_id == source and set(split.moved) == {"ACCOUNT:B1", "EMAIL:b@x.org"}
    assert (split.reason, split.lineage.rule, split.lineage.triggering_event_id) == ("two people", "manual-split", "cmd-1")
    assert h.customer("ACCOUNT", "B1") == h.customer("EMAIL", "b@x.org") == split.new_id
    assert h.customer("ACCOUNT", "A1") == source
    h.observe(("EMAIL", "a@x.org"), ("EMAIL", "b@x.org"))  # the same evidence again
    assert h.decisions(Refused)[-1].lineage.rule == SPLIT_DO_NOT_MERGE
    assert h.customer("EMAIL", "b@x.org") == split.new_id
    h.observe(("ACCOUNT", "OLD"), ("ACCOUNT", "A1"), minutes=-60)  # the source merges into an older customer...
    h.observe(("ACCOUNT", "OLD"), ("ACCOUNT", "B1"))  # ...which inherits the do-not-merge
    assert h.customer("ACCOUNT", "B1") == split.new_id != h.customer("ACCOUNT", "A1")
    h.local.check_consistent()


def test_a_split_records_who_split() -> None:
    """tester12 M6: the operator (``omnibus identity split --by``) travels with the command to ``Split``; a command
    queued before it was recorded (no operator on the wire) still splits, with none."""
    import msgspec

    from processors.identity.graph.messages import AnyMessage

    h = Harness()
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a@x.org"), minutes=0)
    h.observe(("ACCOUNT", "B1"), ("EMAIL", "a@x.org"), minutes=5)
    source = h.customer("ACCOUNT", "A1")
    command = SplitCustomer(["ACCOUNT:B1"], "father and son", "cmd-3", 1_000, operator="ops-3")
    wire = msgspec.msgpack.decode(msgspec.msgpack.encode(command), type=AnyMessage)
    assert wire == command
    queued = msgspec.msgpack.encode(SplitCustomer(["ACCOUNT:B1"], "r", "cmd-4", 1_000))  # as before --by: no operator
    old = msgspec.msgpack.decode(queued, type=AnyMessage)
    assert isinstance(old, SplitCustomer) and old.operator is None
    h.local.submit([_send(source, wire)])
    h.local.run()
    (split,) = h.decisions(Split)
    assert (split.operator, split.reason) == ("ops-3", "father and son")


def test_a_split_must_leave_the_source_something() -> None:
    h = Harness()
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a@x.org"))
    source = h.customer("ACCOUNT", "A1")
    h.local.submit([_send(source, SplitCustomer(["ACCOUNT:A1", "EMAIL:a@x.org"], None, "cmd-2", 1_000))])
    h.local.run()
    assert not h.decisions(Split) and "not all" in h.decisions(Refused)[-1].reason
    assert h.customer("ACCOUNT", "A1") == source


def test_the_same_event_twice_is_applied_once() -> None:
    h = Harness()
    event = interaction([("PHONE", "13912345678")], interaction_id="call-1")
    h.feed(event)
    h.feed(event)
    assert len(h.decisions(Created)) == 1 and len(h.decisions(Resolved)) == 1


def test_invalid_values_are_refused_and_the_event_goes_on_without_them() -> None:
    h = Harness()
    h.observe(("PHONE", "12"), ("NATIONAL_ID", "110105194912310021"), ("EMAIL", "ok@x.org"))
    refused = h.decisions(Refused)
    assert {r.lineage.rule for r in refused} == {"invalid-identifier"}
    assert all("110105194912310021" not in r.identifier for r in refused)
    (created,) = h.decisions(Created)
    assert created.identifiers == ("EMAIL:ok@x.org",)


def test_profiles_merge_when_customers_merge() -> None:
    h = Harness()
    h.feed(interaction([("PHONE", "13912345678")], channel="CALL_CENTER", minutes=1))
    h.feed(product_subscribed("ACC-9", minutes=2), topic="business.events.v1")
    h.observe(("PHONE", "13912345678"), ("ACCOUNT", "ACC-9"))
    survivor = h.customer("ACCOUNT", "ACC-9")
    profile = h.local.store.profiles[survivor]  # type: ignore[index]
    assert list(profile["products"]["products"]) == ["sub-FIBER-1G"]
    assert len(profile["recent_contacts"]["CALL_CENTER"]) == 1
    assert len(h.local.store.profiles) == 1  # the merged customer's profile moved, not copied


def _send(node: str, message: SplitCustomer):  # type: ignore[no-untyped-def]
    from processors.identity.graph.outputs import Send

    return Send(node, message)


def _offers_of(h: Harness, loser: str) -> list[Offer]:
    """The ``offer`` messages ``loser`` makes from now on, recorded as the harness delivers them."""
    offers: list[Offer] = []
    handle = h.local.graph.handle

    def recording(store, node, message):  # type: ignore[no-untyped-def]
        if isinstance(message, Offer) and message.loser == loser:
            offers.append(message)
        return handle(store, node, message)

    h.local.graph.handle = recording  # type: ignore[method-assign]
    return offers


def test_a_late_copy_of_a_merge_offer_reaching_the_root_after_its_survivor_merged_on_announces_nothing() -> None:
    """A worker killed before its commit replays old graph records: an ``offer`` the youngest customer made may
    come back after its survivor itself merged into the oldest and out of the dedupe window, and reach the root.
    Seen in tests/faults/test_workers.py: the same merge announced twice, under another survivor and event id."""
    h = Harness()
    oldest, middle, youngest = _three_customers(h)
    offers = _offers_of(h, youngest)
    h.observe(("EMAIL", "b1@x.org"), ("EMAIL", "c1@x.org"))  # middle absorbs youngest
    h.observe(("EMAIL", "a1@x.org"), ("ACCOUNT", "B1"))  # oldest absorbs middle, and with it youngest
    announced = len(h.decisions(Merged))
    h.local.submit([Send(oldest, offers[0])])  # the late copy, forwarded to the root
    h.local.run()
    assert len(h.decisions(Merged)) == announced
    assert {h.customer("ACCOUNT", v) for v in ("A1", "B1", "C1")} == {oldest}
    h.local.check_consistent()


def test_a_replayed_offer_answered_by_the_merged_survivor_that_decided_it_leaves_the_loser_merged() -> None:
    """A replay locks the loser again (its state restored from before the merge) and its offer reaches the survivor
    that decided it, which has merged on since: the loser must take the root as its parent, not be told "refused"
    and become a customer again beside the one holding its identifiers (seen in tests/faults/test_workers.py:
    customers announced merged that were roots in the node table)."""
    h = Harness()
    oldest, middle, youngest = _three_customers(h)
    offers = _offers_of(h, youngest)
    before = h.local.store.nodes[youngest]  # the youngest's state a restore from an older changelog gives back
    h.observe(("EMAIL", "b1@x.org"), ("EMAIL", "c1@x.org"))  # middle absorbs youngest
    h.observe(("EMAIL", "a1@x.org"), ("ACCOUNT", "B1"))  # oldest absorbs middle, and with it youngest
    announced = len(h.decisions(Merged))
    replayed = offers[0]
    h.local.store.nodes[youngest] = before.__class__(**{f: getattr(before, f) for f in before.__struct_fields__})
    h.local.store.nodes[youngest].lock = replayed.token  # its Link replayed: locked, the offer sent again
    h.local.submit([Send(middle, replayed)])
    h.local.run()
    assert h.local.store.nodes[youngest].parent is not None and not h.local.store.nodes[youngest].lock
    assert len(h.decisions(Merged)) == announced
    h.local.check_consistent()
