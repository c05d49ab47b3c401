"""``omnibus replay PROCESSOR``: rebuild one processor's state from the topics, compare it with the running one.

The rebuild reads the topics with no consumer group (nothing of the running processor is touched: not
its offsets, not its tables) into a fresh in-memory state, with a progress bar and rate; then it reads
what the running processor holds (its published aggregates, or its table's changelog) and prints the
differences. Exit status as ``diff``'s: 0 when the states are equal, 1 when they differ, 2 on a usage error
(an unknown processor, bad settings); ``--no-strict`` exits 0 on a difference too (report only, the behaviour
before a new user found the difference invisible to scripts and cron jobs).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from bus.config import OmnibusSettings, load_settings
from bus.errors import RawRecord
from bus.logging import recomputing
from bus.plural import counted
from bus.topics import TopicSpec
from processors.replay import Progress as ProgressCallback
from processors.replay import Replayed, TopicsReplay, read_topics
from processors.replay.compare import compare

if TYPE_CHECKING:
    from processors.replay.operators import OperatorCommand

console = Console(stderr=True)


@contextmanager
def progress_bar(what: str) -> Iterator[ProgressCallback]:
    """A rich bar with records done / total and the rate, drawn on stderr while topics are read."""
    started = time.monotonic()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]:>10} rec/s"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(what, total=None, rate="-")

        def update(done: int, total: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}")

        yield update


def read_with_progress(settings: OmnibusSettings, what: str, specs: list[TopicSpec],
                       raw: list[TopicSpec] = ()) -> TopicsReplay:  # type: ignore[assignment]
    with progress_bar(what) as progress:
        return asyncio.run(read_topics(settings, specs, progress=progress, raw=raw))


def last_tick(records: list[Replayed]) -> int | None:
    """The latest instant (µs) on a tick topic: the clock the running processor last saw."""
    from bus.ticks import BadTick, decode_tick

    found = []
    for record in records:
        try:
            found.append(decode_tick(RawRecord(value=record.value, key=record.key, topic=record.topic,
                                               partition=record.partition, offset=record.offset)))
        except BadTick:
            continue
    return max(found) if found else None


def now_us() -> int:
    from bus.clock import to_micros

    return to_micros(datetime.now(UTC))


@dataclass
class Rebuilt:
    """What a processor's rebuild hands back: both states, keyed alike, and how much work it was."""

    noun: str  # what a key is: "window", "handoff"
    rebuilt: dict[str, Any]
    running: dict[str, Any]
    events: int
    seconds: float
    shown: Callable[[str], str] = str  # how a key or a value's string is printed (identifiers: masked)


def replay_kpis(settings: OmnibusSettings) -> Rebuilt:
    from bus.topics import KPI_AGGREGATES, KPI_TICKS
    from processors.kpis.agent import INPUTS
    from processors.kpis.config import load_kpis_settings
    from processors.kpis.rebuild import published, rebuild

    kpis = load_kpis_settings()
    inputs = read_with_progress(settings, "reading the KPI inputs", list(INPUTS))
    outputs = read_with_progress(settings, "reading the published aggregates and ticks", [KPI_AGGREGATES, KPI_TICKS],
                                 raw=[KPI_TICKS])
    ticks = [r for r in outputs.records if r.topic == KPI_TICKS.name(settings.topics)]
    started = time.monotonic()
    sources = {spec.name(settings.topics): source for spec, source in INPUTS.items()}
    result = rebuild(inputs.records, sources, kpis, last_tick(ticks) or now_us())
    seconds = time.monotonic() - started
    running = published(r for r in outputs.records if r.topic == KPI_AGGREGATES.name(settings.topics))
    return Rebuilt("window", result.windows, running, result.applied, seconds)


def replay_handoffs(settings: OmnibusSettings) -> Rebuilt:
    from bus.topics import HANDOFF_EVENTS, HANDOFF_TICKS
    from processors.handoffs.config import load_handoffs_settings, load_policy
    from processors.replay.handoffs import changelog, rebuild, running, shown

    handoffs = load_handoffs_settings()
    policy = load_policy(handoffs.policy_file)
    inputs = read_with_progress(settings, "reading the handoff events", [HANDOFF_EVENTS])
    state = read_with_progress(settings, "reading the tracker's changelog and ticks", [changelog(), HANDOFF_TICKS],
                               raw=[changelog(), HANDOFF_TICKS])
    ticks = [r for r in state.records if r.topic == HANDOFF_TICKS.name(settings.topics)]
    started = time.monotonic()
    rebuilt, applied = rebuild(inputs.records, policy, handoffs.source_system, last_tick(ticks) or now_us(),
                               handoffs.retention)
    seconds = time.monotonic() - started
    current = running(r for r in state.records if r.topic == changelog().name(settings.topics))
    return Rebuilt("handoff", rebuilt, current, applied, seconds, shown=shown)


def replay_identity(settings: OmnibusSettings) -> Rebuilt:
    """The node table rebuilt from identity's inputs and the operators' releases, merges and splits, replayed in turn
    (``processors.replay.operators``), against its changelog, both sides compared after joining what reviews link,
    open or decided (``processors.verify.reviews``), as verify does."""
    from bus.topics import CUSTOMER_EVENTS, IDENTITY_REVIEWS
    from processors.identity.config import load_identity_settings
    from processors.profile.book import ProfileBook
    from processors.replay.identity import changelog, clusters, inputs, recompute, running
    from processors.replay.operators import announced_commands
    from processors.verify.identity import decided_pairs
    from processors.verify.identity_outputs import IdentityOutputs
    from processors.verify.report import shown
    from processors.verify.reviews import by_review

    identity, book = load_identity_settings(), ProfileBook.from_registry(identifiers=settings.identifiers)
    records = read_with_progress(settings, "reading identity's inputs", inputs(book))
    state = read_with_progress(settings, "reading the node table's changelog", [changelog()], raw=[changelog()])
    decided = read_with_progress(settings, "reading the operators' decisions", [CUSTOMER_EVENTS, IDENTITY_REVIEWS])

    def of(spec: TopicSpec) -> list[Replayed]:
        return [record for record in decided.records if record.topic == spec.name(settings.topics)]

    commands = announced_commands(of(CUSTOMER_EVENTS))
    started = time.monotonic()
    with recomputing("processors.identity"):
        result = recompute(records.records, settings, identity, book, commands)
    seconds = time.monotonic() - started
    current, undecodable = running(state.records)
    if undecodable:
        typer.echo(f"{counted(undecodable, 'changelog value')} could not be decoded and were skipped", err=True)
    pairs = decided_pairs(IdentityOutputs(customer_events=of(CUSTOMER_EVENTS), reviews=of(IDENTITY_REVIEWS)))
    note = replayed_note(commands, len(result.not_replayed), len(pairs))
    if note:
        typer.echo(note)
    rebuilt = clusters(result.graph.store.nodes)
    return Rebuilt("customer", by_review(rebuilt, pairs), by_review(current, pairs), result.applied, seconds,
                   shown=shown)


def replayed_note(commands: Sequence[OperatorCommand], not_replayed: int, review_pairs: int) -> str | None:
    """What ``replay identity`` replayed and joined before comparing (None: nothing to say): the operators'
    ``commands`` it read and replayed (``operators.announced_commands``), by kind ("0 operator split(s)"
    after four of them counted something else than the decisions read), ``not_replayed`` of them the recomputation
    had no customer for, and the ``review_pairs`` joined because a review links them."""
    from processors.replay.operators import OperatorMerge, OperatorSplit
    from processors.replay.releases import Release

    if not (commands or review_pairs):
        return None
    kinds = Counter(type(command) for command in commands)
    parts = [f"replayed {counted(len(commands), 'operator command')} announced on customer.events: "
             f"{counted(kinds[OperatorMerge], 'merge')}, "
             f"{counted(kinds[OperatorSplit], 'split or unmerge', 'splits or unmerges')}, "
             f"{counted(kinds[Release], 'release')}"]
    if not_replayed:
        parts.append(f"{not_replayed} of them not replayed (the recomputation holds none of its customers)")
    parts.append(f"compared after joining {counted(review_pairs, 'pair')} of customers that reviews link "
                 "(omnibus verify lists them)")
    return "; ".join(parts)


REPLAYS: dict[str, Callable[[OmnibusSettings], Rebuilt]] = {
    "kpis": replay_kpis, "handoffs": replay_handoffs, "identity": replay_identity,
}


def replay(processor: str, settings: OmnibusSettings) -> bool:
    """Rebuild, compare, print; True when the rebuilt state equals the running one."""
    result = REPLAYS[processor](settings)
    rate = result.events / max(result.seconds, 1e-6)
    typer.echo(f"rebuilt {counted(len(result.rebuilt), result.noun)} from {counted(result.events, 'event')} in "
               f"{result.seconds:.2f} s ({rate:,.0f} events/s); the running {processor} processor holds "
               f"{len(result.running)}")
    comparison = compare(result.rebuilt, result.running)
    typer.echo(comparison.summary())
    for line in comparison.details(shown=result.shown):
        typer.echo(line)
    return comparison.equal


def replay_command(
    processor: str = typer.Argument(..., help=f"Processor whose state to rebuild: {', '.join(REPLAYS)}."),
    strict: bool = typer.Option(True, "--strict/--no-strict",
                                help="--strict (the default): exit 1 when the rebuilt state differs from the running "
                                     "one; --no-strict: exit 0 all the same (report only)."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Rebuild one processor's state from the topics into a fresh state (no consumer group), with a progress bar
    and rate, and compare it with the running processor's. Exit 0 when they are equal, 1 when they differ
    (0 with ``--no-strict``), 2 on a usage error."""
    if processor not in REPLAYS:
        raise typer.BadParameter(f"unknown processor {processor!r}; one of: {', '.join(REPLAYS)}")
    from bus.bootstrap import bad_settings_exit

    with bad_settings_exit():
        settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})})
    with bad_settings_exit():
        equal = replay(processor, settings)
    typer.echo("rebuilt state equals the running one" if equal else "rebuilt state DIFFERS from the running one")
    if strict and not equal:
        raise typer.Exit(1)
