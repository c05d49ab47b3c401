"""The fast path's view of customer.identifiers.v1: the reader rule, bounded, one customer or no claim."""

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Assigned, Created, Lineage, Unassigned


def test_the_highest_version_wins_whatever_the_order_rows_arrive_in() -> None:
    view = AssignmentView()
    view.learn("EMAIL:a@x.org", "cus_b", 2)
    view.learn("EMAIL:a@x.org", "cus_a", 1)  # a stale row (a fenced worker's late write)
    assert view.claim(["EMAIL:a@x.org"]) == ("cus_b", {"EMAIL:a@x.org": 2})
    view.learn("EMAIL:a@x.org", "cus_c", 2)  # same version: the later one wins
    assert view.claim(["EMAIL:a@x.org"]) == ("cus_c", {"EMAIL:a@x.org": 2})
    view.forget("EMAIL:a@x.org")
    assert view.claim(["EMAIL:a@x.org"]) is None


def test_a_claim_needs_every_identifier_known_and_on_one_customer() -> None:
    view = AssignmentView()
    view.learn_outputs([Assigned("PHONE:+1", "cus_a", 1, "e"), Assigned("EMAIL:a@x.org", "cus_a", 3, "e"),
                        Assigned("ACCOUNT:9", "cus_b", 1, "e"),
                        Created("cus_a", ("PHONE:+1",), Lineage("e", "WEB", "co-observed"))])
    assert view.claim(["EMAIL:a@x.org", "PHONE:+1"]) == ("cus_a", {"EMAIL:a@x.org": 3, "PHONE:+1": 1})
    assert view.claim(["EMAIL:a@x.org", "ACCOUNT:9"]) is None  # two customers: a link, the slow path
    assert view.claim(["EMAIL:a@x.org", "DEVICE:new"]) is None  # a new identifier: the slow path
    assert view.claim([]) is None


def test_the_view_is_bounded_and_forgets_the_oldest_first() -> None:
    view = AssignmentView(max_identifiers=2)
    for index in range(3):
        view.learn(f"PHONE:{index}", "cus_a", 1)
    assert len(view) == 2 and view.claim(["PHONE:0"]) is None and view.claim(["PHONE:2"]) is not None


def test_an_eviction_tombstone_removes_the_identifier() -> None:
    view = AssignmentView()
    view.learn_outputs([Assigned("EMAIL:six@x.org", "cus_a", 1, "e"), Unassigned("EMAIL:six@x.org", 2)])
    assert view.claim(["EMAIL:six@x.org"]) is None
