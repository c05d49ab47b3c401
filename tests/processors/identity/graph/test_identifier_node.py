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
