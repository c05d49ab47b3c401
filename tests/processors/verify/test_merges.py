"""An operator's merge (``omnibus identity merge``) in the verifier: it travels on the graph topic, and the
recomputation replays it from its ``CustomerMerged`` (``processors.replay.operators``), so the customers it joined
are one on both sides, and a split it undid is no failure (``check_splits``)."""

from __future__ import annotations

from dataclasses import replace

from bus.config import TopicSettings
from processors.identity.announcements import Announcer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Merged, Send
from processors.identity.graph.saga import merge_saga
from processors.identity.rules import MANUAL_MERGE
from processors.replay import Replayed
from processors.replay.identity import Recomputed
from processors.verify.reviews import DECIDED
from tests.processors.verify.support import EVENTS
from tests.processors.verify.test_reviews import (
    checked,
    jonathan_and_the_mistyped_account,
    outputs_of,
    split_off,
    two_accounts_one_phone,
)


def merged(recomputed: Recomputed, first: str, second: str) -> list[Replayed]:
    """``omnibus identity merge`` of the customers of ``first`` and ``second``, run to rest; its CustomerMerged."""
    graph = recomputed.graph
    saga = merge_saga("merge-1", sorted([first, second]), "ops-3", "one person")
    graph.submit([Send(saga.ids[0], Visit(saga))])
    graph.run()
    announcer = Announcer(TopicSettings(prefix="v"), lambda ref: None)  # type: ignore[arg-type,return-value]
    events = [item.event for d in graph.decisions if isinstance(d, Merged) and d.lineage.rule == MANUAL_MERGE
              for item in announcer.outgoing(d) if item.topic == EVENTS]  # type: ignore[union-attr]
    assert len(events) == 1
    return [Replayed(EVENTS, 0, 100 + offset, b"c", event) for offset, event in enumerate(events)]


def test_customers_an_operator_merged_are_one_in_the_recomputation_too() -> None:
    """Two accounts the matcher kept apart for review; no review on the topic, the operator merged them: the
    recomputation replays the merge, nothing differs, nothing is listed."""
    running = two_accounts_one_phone()
    accounts = sorted(key for key in running.graph.store.nodes if key.startswith("ACCOUNT:"))
    events = merged(running, *accounts)
    recomputed = two_accounts_one_phone(events)
    assert recomputed.graph.clusters() == running.graph.clusters() and len(running.graph.clusters()) == 1
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=events))
    assert report.ok, report.lines()
    assert report.notes == [] and DECIDED not in report.figures


def test_a_merge_of_two_customers_nothing_explains_still_fails() -> None:
    recomputed, running = two_accounts_one_phone(), two_accounts_one_phone()
    merged(running, *sorted(key for key in running.graph.store.nodes if key.startswith("ACCOUNT:")))
    report = checked(recomputed, outputs_of(running, []))  # no CustomerMerged of rule manual-merge read
    assert not report.ok


def test_a_split_an_operator_merged_back_is_no_failure() -> None:
    running = jonathan_and_the_mistyped_account()
    account = next(key for key in running.identifiers_of["e2"] if key.startswith("ACCOUNT:"))
    phone = next(key for key in running.identifiers_of["e2"] if key.startswith("PHONE:"))
    split_events = split_off(running, account)
    merge_events = merged(running, account, phone)
    assert running.graph.customer_of(account) == running.graph.customer_of(phone)
    recomputed = jonathan_and_the_mistyped_account(split_events + merge_events)
    assert recomputed.graph.clusters() == running.graph.clusters()
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=split_events + merge_events))
    assert report.ok, report.lines()
