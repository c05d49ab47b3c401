"""``omnibus verify`` on a run whose grouping depends on arrival order: the default one-login-per-customer limit.

The running processor took four events in time order; the recomputation reads its inputs topic by topic and partition
by partition, here the other way round. ``USER_ID`` is limited to one per customer (the default), so the two group
the same identifiers otherwise with nothing lost: noted and counted (``arrival_order.ARRIVAL_ORDER``), not failed.
A difference no rule decided, or one the running processor kept apart without announcing a refusal, still fails.
"""

from __future__ import annotations

from processors.identity.rules import MAX_PER_CUSTOMER
from processors.replay.identity import Recomputed, clusters, recompute
from processors.verify.arrival_order import ARRIVAL_ORDER, REFUSED
from processors.verify.identity import check_identity
from processors.verify.identity_outputs import IdentityOutputs
from processors.verify.report import Report
from processors.verify.reviews import TOGETHER_IN_TABLE, TOGETHER_RECOMPUTED
from tests.processors.identity.support import observed
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS_IN, SETTINGS, row

TABLE = "identity: node table equals the recomputation from its inputs"
GROUPED = "identity: identifiers are grouped as the recomputation groups them"
# A login's account, a second login on that account (refused: one login per customer), that login's e-mail, then a
# phone on the account: which customer the phone and the account end on depends on which event came first.
EVENTS = [
    [("USER_ID", "u3"), ("ACCOUNT", "ACC-1")],
    [("USER_ID", "u2"), ("ACCOUNT", "ACC-1")],
    [("EMAIL", "b@example.org"), ("USER_ID", "u2")],
    [("PHONE", "+8613912345671"), ("ACCOUNT", "ACC-1")],
]
APART = [("EMAIL", "x@example.org"), ("EMAIL", "y@example.org")]  # one more customer no limit touches


def run(events: list[list[tuple[str, str]]]) -> Run:
    """The running processor fed ``events`` in time order, each to rest."""
    done = Run()
    for minute, identifiers in enumerate(events):
        done.feed(observed(identifiers, event_id=f"e{minute}", minutes=minute))
    return done


def verified(done: Run, outputs: IdentityOutputs) -> Report:
    """verify's identity checks with the inputs read in the reverse order (as by topic and partition)."""
    report = Report()
    check_identity(recomputed_backwards(done), outputs, CONTACTS_IN, report)
    return report


def recomputed_backwards(done: Run) -> Recomputed:
    """The recomputation from ``done``'s inputs read last first."""
    return recompute(done.inputs[::-1], SETTINGS, done.config, done.harness.book)


def test_the_case_depends_on_the_order() -> None:
    done = run(EVENTS)
    again = recomputed_backwards(done)
    assert clusters(again.graph.store.nodes) != clusters(done.harness.local.store.nodes)


def test_a_limit_that_decided_otherwise_is_noted_not_failed() -> None:
    done = run(EVENTS)
    outputs = done.outputs()
    refusals = [r for r in outputs.customer_events if r.event is not None and r.event.schema == REFUSED]
    assert {r.event.value["lineage"]["rule"] for r in refusals if r.event is not None} == {MAX_PER_CUSTOMER}
    report = verified(done, outputs)
    assert report.ok, report.lines()
    assert report.figures[ARRIVAL_ORDER] == 1
    assert report.figures[TOGETHER_IN_TABLE] == report.figures[TOGETHER_RECOMPUTED] == 0
    assert report.figures["lost"] == 0
    assert any("depends on arrival order" in note for note in report.notes)


def test_a_difference_no_rule_decided_still_fails_beside_it() -> None:
    done = run([*EVENTS, APART])
    outputs = done.outputs()
    assert verified(done, outputs).ok
    lost = done.customer(*APART[0])  # the table lost that customer: its node is gone
    outputs.changelog = [r for r in outputs.changelog if r.key != lost.encode()]
    report = verified(done, outputs)
    assert len(report.check(TABLE).failures) == 1, report.lines()
    assert "only in the recomputation" in report.check(TABLE).failures[0]
    assert report.figures[ARRIVAL_ORDER] == 1


def test_a_table_that_keeps_customers_apart_without_announcing_why_fails() -> None:
    done = run(EVENTS)
    outputs = done.outputs()
    outputs.customer_events = [r for r in outputs.customer_events
                               if r.event is None or r.event.schema != REFUSED]
    report = verified(done, outputs)
    assert not report.check(TABLE).ok
    assert not report.check(GROUPED).ok
    assert ARRIVAL_ORDER not in report.figures


def test_a_row_that_disagrees_with_the_table_inside_such_a_group_fails() -> None:
    done = run(EVENTS)
    outputs = done.outputs()
    email = done.harness.key("EMAIL", "b@example.org")
    outputs.assignments = [row(email, "cus_someone_else", 2, 99) if r.key == email.encode() else r
                           for r in outputs.assignments]
    report = verified(done, outputs)
    assert report.check(TABLE).ok and report.figures[ARRIVAL_ORDER] == 1
    assert len(report.check(GROUPED).failures) == 1, report.lines()
