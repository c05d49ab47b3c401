from processors.identity.graph.outputs import Created, Send, SharedMarked
from tests.processors.identity.support import Harness, matcher_settings, national_id


def test_a_reserved_identifier_makes_other_sagas_wait_their_turn() -> None:
    h = Harness()
    h.observe(("EMAIL", "a@x.org"), ("PHONE", "13900000001"), settle=False)
    h.observe(("EMAIL", "a@x.org"), ("ACCOUNT", "ACC-1"), settle=False)
    for _ in range(4):  # the first saga reserves EMAIL:a@x.org, the second arrives there and waits
        h.local.step()
    assert len(h.local.store.nodes["EMAIL:a@x.org"].waiting) == 1  # type: ignore[union-attr]
    h.local.run()
    assert len(h.decisions(Created)) == 1
    assert len({h.customer("EMAIL", "a@x.org"), h.customer("PHONE", "13900000001"), h.customer("ACCOUNT", "ACC-1")}) == 1
    h.local.check_consistent()


def test_a_duplicated_saga_message_does_nothing_twice() -> None:
    h = Harness()
    h.observe(("EMAIL", "a@x.org"), ("PHONE", "13900000001"), settle=False)
    node, message = h.local.queues[0][0]
    h.local.run()
    h.local.submit([Send(node, message)])  # the same visit again, e.g. replayed after a crash
    h.local.run()
    assert len(h.decisions(Created)) == 1
    h.local.check_consistent()


def test_the_shared_flag_is_announced_once() -> None:
    h = Harness(matcher_settings(shared_after={"PHONE": 1}))
    h.observe(("NATIONAL_ID", national_id("11010519800101001")), ("PHONE", "13900000009"))
    h.observe(("NATIONAL_ID", national_id("11010519800101002")), ("PHONE", "13900000009"))
    h.observe(("NATIONAL_ID", national_id("11010519800101003")), ("PHONE", "13900000009"))
    (marked,) = h.decisions(SharedMarked)
    assert marked.identifier == "PHONE:+8613900000009" and marked.customers == 2


def test_an_event_that_lowers_an_identifiers_rank_carries_the_rank_it_had_before() -> None:
    """``Saga.prior_ranks`` (``displace.py``): an event older than any that carried the user id notes the smallest
    rank the node knew before it; one that ranks nothing lower notes nothing."""
    h = Harness()
    h.observe(("USER_ID", "u-1"), ("EMAIL", "a@x.org"), minutes=5)
    before = h.local.store.nodes[h.key("USER_ID", "u-1")].first_rank  # type: ignore[union-attr]
    h.observe(("USER_ID", "u-1"), ("PHONE", "13900000001"), minutes=1, settle=False)
    h.observe(("USER_ID", "u-1"), ("PHONE", "13900000002"), minutes=9, settle=False)
    noted: dict[str, dict[str, int]] = {}
    while h.local.step():
        for _, message in h.local.queues[0]:
            saga = getattr(message, "saga", None)
            if saga is not None and saga.visited == len(saga.ids):  # every node visited
                noted[next(key for key in saga.ids if key.startswith("PHONE"))] = saga.prior_ranks
    assert noted[h.key("PHONE", "13900000001")] == {h.key("USER_ID", "u-1"): before}
    assert noted[h.key("PHONE", "13900000002")] == {}
