"""The verifier after an operator's release (``omnibus identity release``, tester F1's recycled number): the
recomputation replays the release where the running processor applied it (``processors.replay.releases``), so a
legitimate release is no difference; a difference the release does not explain still fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from processors.identity.announcements import Announcer
from processors.identity.graph.outputs import Refused, Resolved, Unresolved
from processors.identity.intake import ref_loader
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.replay.releases import announced_releases
from processors.verify.contacts import REFLECTED, REKEYED, SOMEWHERE
from processors.verify.identity_outputs import IdentityOutputs
from tests.processors.identity.graph.test_release import PHONE, RELEASED_AT, call, identify, release
from tests.processors.identity.support import DESERIALIZER, Harness, matcher_settings
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, EVENTS, INPUT, SETTINGS, record, row
from tests.processors.verify.test_reviews import GROUPED, checked, outputs_of


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class Recycled:
    """Carol's number given to Dave: Carol's identify (2024), Dave's (kept apart), a call popping Carol; the release;
    then a late upload of a call from before it, Dave's next identify and his call. ``inputs``: the input topics as
    read back (topic by topic, each record's Kafka timestamp when it arrived); ``running``: the processor that saw
    them in arrival order with the release between."""

    def __init__(self) -> None:
        self.config = matcher_settings(default_region="FR")
        before = [(INPUT, identify("u-carol", "06 99 88 77 01", datetime(2024, 3, 1, tzinfo=UTC))),
                  (INPUT, identify("u-dave", "+33699887701", datetime(2026, 11, 30, tzinfo=UTC))),
                  (CONTACTS_IN, call("CALL-1", datetime(2026, 11, 30, 18, tzinfo=UTC)))]
        late = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)  # when the offline counter uploaded it
        after = [(CONTACTS_IN, call("LATE", datetime(2025, 5, 1, tzinfo=UTC))),
                 (INPUT, identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC))),
                 (CONTACTS_IN, call("CALL-2", datetime(2026, 12, 3, tzinfo=UTC)))]
        self.call_2 = after[-1][1].value["envelope"]["event_id"]  # Dave's call after the release
        self.late = after[0][1].value["envelope"]["event_id"]  # Carol's call from before it (tester18 F5)
        self.running = Harness(self.config)
        for topic, event in before:
            self.running.feed(event, topic)
        release(self.running, self.running.customer("USER_ID", "u-carol"))  # type: ignore[arg-type]
        for topic, event in after:
            self.running.feed(event, topic)
        arrivals = [event.value["envelope"]["occurred_at"] for _, event in before] + [late] + [
            event.value["envelope"]["occurred_at"] for _, event in after[1:]]
        fed = [(topic, event, _ms(at)) for (topic, event), at in zip([*before, *after], arrivals, strict=True)]
        self.inputs = [replace(record(topic, "k", event, offset), timestamp_ms=ms)
                       for offset, (topic, event, ms) in enumerate(sorted(fed, key=lambda item: item[0] != INPUT))]

    def recomputed(self, customer_events: list[Replayed]) -> Recomputed:
        return recompute(self.inputs, SETTINGS, self.config, self.running.book, announced_releases(customer_events))

    def outputs(self) -> IdentityOutputs:
        """What the running processor wrote: current rows, its node table, the release's LinkRefused (announced at
        the release's instant) and every contact under the customer it was placed on."""
        graph = self.running.local
        announcer = Announcer(SETTINGS.topics, ref_loader(DESERIALIZER), clock=lambda: RELEASED_AT)
        refused = [item for d in graph.decisions if isinstance(d, Refused) for item in announcer.outgoing(d)]
        events = [Replayed(EVENTS, 0, offset, item.key.encode(), item.event, timestamp_ms=_ms(RELEASED_AT))
                  for offset, item in enumerate(refused)]
        contacts = [record(CONTACTS, item.key, item.event, offset) for offset, item in enumerate(
            item for d in graph.decisions if isinstance(d, Resolved) for item in announcer.outgoing(d))]
        return replace(outputs_of(Recomputed(graph), []), customer_events=events, contacts=contacts)


def test_a_recomputation_that_replays_the_release_gives_the_running_result() -> None:
    run = Recycled()
    outputs = run.outputs()
    recomputed = run.recomputed(outputs.customer_events)
    assert recomputed.graph.customer_of(run.running.key(*PHONE)) is not None
    report = checked(recomputed, outputs)
    assert report.ok, report.lines()
    assert report.notes == []
    assert not checked(run.recomputed([]), outputs).ok  # without the release: Carol keeps the number


def test_a_release_does_not_excuse_an_unrelated_difference() -> None:
    """Dave's identifiers spread over two customers, or his call after the release still on Carol (F1 itself): the
    release explains neither."""
    run = Recycled()
    outputs = run.outputs()
    dave = run.running.key("USER_ID", "u-dave")
    outputs.assignments = [row(dave, "cus_someone_else", 2, 99) if r.key == dave.encode() else r
                           for r in outputs.assignments]
    report = checked(run.recomputed(outputs.customer_events), outputs)
    assert report.check(GROUPED).failures, report.lines()

    outputs = run.outputs()
    carol = run.running.customer("USER_ID", "u-carol")
    outputs.contacts = [replace(r, key=carol.encode()) if r.event.value["envelope"]["event_id"] == run.call_2  # type: ignore[union-attr]
                        else r for r in outputs.contacts]
    report = checked(run.recomputed(outputs.customer_events), outputs)
    (failure,) = report.failures()
    assert failure.startswith(f"{REKEYED}: contact {run.call_2} is under 1 customer, none of them"), failure


def test_the_late_call_from_before_the_release_is_on_carol_and_verify_flags_it_missing() -> None:
    """Tester18 F5: the late call the number carried while Carol held it is on Carol's contacts; a processor that left
    it on no customer fails verify, whether the recomputation resolves it (the check of resolved contacts) or, as
    processors before the fix did, leaves it unresolved too (the check of contacts on some customer), counted lost
    once."""
    run = Recycled()
    outputs = run.outputs()
    carol = run.running.customer("USER_ID", "u-carol")
    assert [r.key for r in outputs.contacts if r.event.value["envelope"]["event_id"] == run.late] == [  # type: ignore[union-attr]
        carol.encode()]  # type: ignore[union-attr]
    outputs.contacts = [r for r in outputs.contacts if r.event.value["envelope"]["event_id"] != run.late]  # type: ignore[union-attr]
    report = checked(run.recomputed(outputs.customer_events), outputs)
    assert report.failures() == [f"{REFLECTED}: contact {run.late} is not on customer.contacts"]
    assert report.figures["lost"] == 1

    unresolved = run.recomputed(outputs.customer_events)
    unresolved.graph.decisions[:] = [Unresolved(run.late) if isinstance(d, Resolved) and d.triggering_event_id == run.late
                                     else d for d in unresolved.graph.decisions]
    report = checked(unresolved, outputs)
    assert report.failures() == [f"{SOMEWHERE}: contact {run.late} carried 1 identifier and is on no customer "
                                 "(not on customer.contacts)"]
    assert report.figures["lost"] == 1 and "contacts without an identifier" not in report.figures
