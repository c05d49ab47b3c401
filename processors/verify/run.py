"""Reading a run back from the broker and running the checks: ``verify(settings)`` -> ``Report``.

The API the fault tests use (and ``omnibus verify``)::

    report = verify(settings, processors=("identity",), identity=identity_settings, ledger=path)
    report = verify(settings, wait_s=60)          # wait up to a minute for the processors' consumer lag to be 0
    report = await averify(settings, ...)      # the same, off the event loop (a worker thread)
    report = verify(settings, progress=progress_bar)  # each stage's progress: ``omnibus verify``'s lines on stderr
    report.ok, report.failures(), report.figures  # figures: events, lost, duplicates, conflicting, stale rows

First, each processor's consumer lag on the inputs it is judged on (``processors.verify.lag``): while it has
records it has not read yet, nothing is judged and ``Report.unread`` says so (unread records counted
as "lost"). Then topics are read with no consumer group, from offset 0 to the end offsets at the start
(``read_topics``); nothing of the running processors is touched.

A run of ~65,000 events took minutes with nothing printed: ``progress`` (a ``Stage``) is told each
stage's name (the lag, the read, each recomputation) and gets a ``Progress`` to call with (done, total) records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from bus.config import OmnibusSettings
from bus.logging import recomputing
from bus.topics import (
    CONTACT_EVENTS,
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    CUSTOMER_IDENTIFIERS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    HANDOFF_TICKS,
    IDENTITY_GRAPH,
    IDENTITY_REVIEWS,
    TopicSpec,
)
from processors.handoffs.config import HandoffPolicy
from processors.identity.config import IdentitySettings
from processors.profile.book import ProfileBook
from processors.replay import Progress, Replayed, read_topics
from processors.replay.holders import CREATED
from processors.replay.operators import MERGED
from processors.verify.effects import check_copies, check_one_id_per_decision
from processors.verify.identity import check_identity
from processors.verify.identity_outputs import IdentityOutputs, final_customer, merges
from processors.verify.lag import Reader, wait_unread
from processors.verify.ledger import check_ledger, read_ledger
from processors.verify.placement import (
    Placements,
    announced_customers,
    check_handoff_customers,
    check_handoffs_with_their_contact,
    check_one_customer_per_contact,
    read_placements,
)
from processors.verify.report import Report

PROCESSORS = ("identity", "handoffs")
# A stage's progress: called with the stage's name, it gives the ``Progress`` the stage reports (done, total) to,
# for as long as the stage runs (``processors.replay.cli.progress_bar``: a line on stderr).
Stage = Callable[[str], AbstractContextManager[Progress]]


def _silent(what: str) -> AbstractContextManager[Progress]:
    """The ``Stage`` of a caller that shows no progress (tests, the fault suite)."""
    return nullcontext(lambda done, total: None)


def _of(records: list[Replayed], settings: OmnibusSettings, *specs: TopicSpec) -> list[Replayed]:
    names = {spec.name(settings.topics) for spec in specs}
    return [r for r in records if r.topic in names]


def customer_decision(record: Replayed) -> str | None:
    """The decision a ``customer.events`` record announces, as the check ``one event id per decision`` names it:
    ``customer ID created`` or ``customer ID merged away`` (None: another event)."""
    value = record.event.value if record.event is not None else {}
    if record.event is not None and record.event.schema == CREATED:
        return f"customer {value['customer_id']} created"
    if record.event is not None and record.event.schema == MERGED:
        return f"customer {value['merged_customer_id']} merged away"
    return None


def readers(settings: OmnibusSettings, processors: Sequence[str], book: ProfileBook) -> list[Reader]:
    """The consumer group of each of ``processors`` and the topics it reads that verify judges it on: identity's
    inputs and its graph topic (its own protocol: a message unread there is a decision not taken yet), the
    tracker's handoff events."""
    from bus.app import group_id
    from processors.handoffs.agent import APP_NAME as HANDOFFS
    from processors.identity.agent import COMPONENT as IDENTITY
    from processors.identity.agent import input_topics

    topics = {IDENTITY: [*input_topics(book), IDENTITY_GRAPH], HANDOFFS: [HANDOFF_EVENTS]}
    return [Reader(name, group_id(name, settings), tuple(spec.name(settings.topics) for spec in topics[name]))
            for name in processors]


def verify(
    settings: OmnibusSettings, *, processors: Sequence[str] = PROCESSORS, ledger: Path | None = None,
    identity: IdentitySettings | None = None, book: ProfileBook | None = None,
    handoffs_policy: HandoffPolicy | Path | None = None, wait_s: float = 0.0, progress: Stage = _silent,
) -> Report:
    """Read the run back and check it; ``identity``/``book``/``handoffs_policy`` (a policy or its file): as the
    workers ran (default: from the environment). First the processors' consumer lag, read again for up to
    ``wait_s`` seconds while any: a processor with records it has not read yet leaves the report not judged
    (``Report.unread``, no check run). ``progress``: each stage's progress (the module).

    Raises ``ValueError`` for an unknown processor or a malformed ledger, ``TimeoutError`` when a topic
    does not deliver up to its end offsets.
    """
    unknown = set(processors) - set(PROCESSORS)
    if unknown:
        raise ValueError(f"unknown processor(s) {sorted(unknown)}; known: {', '.join(PROCESSORS)}")
    from processors.identity.agent import input_topics
    from processors.replay.handoffs import changelog as handoffs_changelog
    from processors.replay.identity import changelog as identity_changelog
    from processors.replay.identity import contacts_changelog, profiles_changelog

    book = book if book is not None else ProfileBook.from_registry(identifiers=settings.identifiers)
    with progress("reading the processors' consumer lag"):
        unread = asyncio.run(wait_unread(settings, readers(settings, processors, book), wait_s))
    if unread:
        return Report(unread=unread)
    inputs_specs = {spec.suffix: spec for spec in input_topics(book)}
    inputs_specs[HANDOFF_EVENTS.suffix] = HANDOFF_EVENTS
    outputs = [CUSTOMER_IDENTIFIERS, CUSTOMER_EVENTS, CUSTOMER_CONTACTS, DEAD_LETTERS, IDENTITY_REVIEWS]
    raw = [identity_changelog(), profiles_changelog(), contacts_changelog(), handoffs_changelog(), HANDOFF_TICKS]
    specs = [*inputs_specs.values(), *outputs, *raw]
    with progress(f"reading {len(specs)} topics") as reading:
        read = asyncio.run(read_topics(settings, specs, raw=raw, progress=reading))
    records = read.records
    report = Report()
    report.count("undecodable records", read.undecodable)
    dead_lettered = {(d.event.value["source_topic"], d.event.value["source_partition"], d.event.value["source_offset"])
                     for d in _of(records, settings, DEAD_LETTERS) if d.event is not None}
    if ledger is not None:
        check_ledger(read_ledger(ledger), _of(records, settings, *inputs_specs.values()), settings.topics.prefix,
                     report)
    placements = read_placements(_of(records, settings, CUSTOMER_CONTACTS))
    if "identity" in processors:
        with progress("recomputing identity from its inputs") as stage, recomputing("processors.identity"):
            _identity(settings, records, identity, book, dead_lettered, placements, report, stage)
    if "handoffs" in processors:
        with progress("recomputing the handoffs"), recomputing("processors.handoffs"):
            _handoffs(settings, records, handoffs_policy, dead_lettered, placements, report)
    return report


async def averify(settings: OmnibusSettings, **options: object) -> Report:
    """``verify`` from async code (tests): run in a worker thread, the calling loop goes on."""
    return await asyncio.to_thread(lambda: verify(settings, **options))  # type: ignore[arg-type]


def _identity(settings: OmnibusSettings, records: list[Replayed], identity: IdentitySettings | None,
              book: ProfileBook, dead_lettered: set[tuple[str, int, int]], placements: Placements,
              report: Report, progress: Progress) -> None:
    from processors.identity.agent import input_topics
    from processors.identity.config import load_identity_settings
    from processors.replay.identity import changelog, contacts_changelog, profiles_changelog, recompute
    from processors.replay.operators import announced_commands

    identity = identity if identity is not None else load_identity_settings()
    customer_events = _of(records, settings, CUSTOMER_EVENTS)
    recomputed = recompute(_of(records, settings, *input_topics(book)), settings, identity, book,
                           announced_commands(customer_events), progress=progress)
    outputs = IdentityOutputs(
        assignments=_of(records, settings, CUSTOMER_IDENTIFIERS),
        customer_events=customer_events,
        contacts=_of(records, settings, CUSTOMER_CONTACTS), changelog=_of(records, settings, changelog()),
        dead_lettered=dead_lettered, reviews=_of(records, settings, IDENTITY_REVIEWS),
        profiles=_of(records, settings, profiles_changelog()),
        contact_records=_of(records, settings, contacts_changelog()))
    check_identity(recomputed, outputs, CONTACT_EVENTS.name(settings.topics), report)
    survivors = merges(outputs.customer_events)
    check_copies("customer.events", outputs.customer_events, report)
    check_one_id_per_decision("customer.events", outputs.customer_events, report, customer_decision)
    check_copies("customer.contacts", outputs.contacts, report, lambda key: final_customer(key, survivors))
    check_one_customer_per_contact(placements, report)
    check_handoffs_with_their_contact(placements, report)


def _handoffs(settings: OmnibusSettings, records: list[Replayed], policy: HandoffPolicy | Path | None,
              dead_lettered: set[tuple[str, int, int]], placements: Placements, report: Report) -> None:
    from processors.handoffs.config import load_handoffs_settings, load_policy
    from processors.replay.cli import last_tick, now_us
    from processors.replay.handoffs import changelog, rebuild, running
    from processors.verify.handoffs import check_handoffs

    handoffs = load_handoffs_settings()
    if not isinstance(policy, HandoffPolicy):
        policy = load_policy(policy or handoffs.policy_file)
    inputs = _of(records, settings, HANDOFF_EVENTS)
    rebuilt, _ = rebuild(inputs, policy, handoffs.source_system, last_tick(_of(records, settings, HANDOFF_TICKS))
                         or now_us(), handoffs.retention)
    changes = _of(records, settings, changelog())
    table = running(changes)
    check_handoffs(inputs, handoffs.source_system, rebuilt, table, dead_lettered, report)
    own = [r for r in inputs if r.event is not None
           and (r.event.value.get("envelope") or {}).get("source_system") == handoffs.source_system]
    check_copies("handoff.events (tracker outputs)", own, report)
    check_handoff_customers(placements, running(changes, ("customer_id", "status")), announced_customers(own), report)
