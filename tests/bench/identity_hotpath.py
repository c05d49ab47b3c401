"""The identity worker's own CPU per event, without Kafka or faust: where the hot path spends it (#9 build 2, 3).

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_hotpath --events 20000 [--profile FILE]

The input of ``tests.bench.identity`` (``identity_workload.contact_mix``: 80% repeat contacts) is encoded as the
adapters encode it, then run batch by batch (``--batch``, identity's ``batch_size``) through what a worker does with
it between Kafka's fetch and Kafka's producer, in one process on one "partition" set the worker owns whole:

* intake: the record decoded (``RecordDecoder``), kept for the root (``RefLoader``), its saga started (``Intake``);
* repeat contacts whose claim the view makes are handled at once (``ApplyHere``'s steps: ``IdentityGraph.handle`` on
  an ``Overlay`` of ``FaustTables``); every other message goes through the graph topic's codec (``wire.bundle`` /
  ``decode_record``) and the same handlers until the batch's graph is quiet (``GraphAgent``'s steps);
* outputs: each becomes its records (``Announcer``) and is serialized (``RoutingSerializer``), the states are
  committed and their changelog records built (``drain_changelog``), the view learns, metrics are counted.

What it leaves out, on purpose: the consumer, the producer (batches, lz4, requests) and asyncio, whose cost
``tests.bench.identity`` measures with Kafka in the loop. CPU is ``time.process_time`` over the measured events
(the ``--warm`` first events build the state first and are not counted); ``--repeat`` runs, the median reported.
The garbage collector is set as a worker sets it (``lifecycle.freeze_startup_objects``): with Python's defaults
collections were a third of the CPU, which a worker does not spend.
Deterministic input, one process, no broker: the figure moves with the machine's load far less than a worker's.
``--mix repeat``: the measured events all repeat a combination of the warm ones (what a repeat contact costs alone);
``--input-only``: only the input built, whose instructions two runs' difference counts too (subtract it).
Two trees compare in one window by running it from each in turn (``cd TREE && PYTHONPATH=$PWD ...``, TREE a
``git archive`` of main): it has no ``--tree`` option.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from typing import Any

RESULT_KEYS = ("events", "cpu_us_per_event", "records_per_event", "changelog_bytes_per_event")


class _Topic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class _Table:
    """What ``FaustTables`` uses of a faust table: ``data``, the value codec's name and the changelog topic."""

    value_serializer = "raw"

    def __init__(self, name: str) -> None:
        self.data: Any = {}  # a dict, as faust's memory store holds it, or the contacts table's RocksDB store
        self.changelog_topic = _Topic(f"{name}-changelog")


class _Record:
    """A consumed record, as ``raw_record`` and ``GraphAgent`` read it."""

    __slots__ = ("topic", "partition", "offset", "key", "value", "headers", "timestamp")

    def __init__(self, topic: str, key: bytes | None, value: bytes, offset: int) -> None:
        self.topic, self.partition, self.offset, self.key, self.value = topic, 0, offset, key, value
        self.headers: list[tuple[str, bytes]] = []
        self.timestamp = 0


def _done(coroutine: Any) -> Any:
    """The result of a coroutine that never suspends (``RecordDecoder.decode`` of a valid record), without a loop."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the coroutine suspended")


def inputs(serializer: Any, topic: str, events: int, warm: int, mix: str = "contacts") -> list[_Record]:
    """The bench's input records, Avro-encoded as the adapters encode them (``run``'s ``mix``). Building them is in
    the difference between two runs' instruction counts too: ``--input-only`` measures that part alone."""
    from bus.serde import SerdeContext
    from tests.bench.identity_workload import contact_mix, repeat_contacts

    items = contact_mix(warm + events) if mix == "contacts" else contact_mix(warm)
    if mix == "repeat":
        items += repeat_contacts(items, events)
    return [_Record(topic, key.encode(), serializer(event, SerdeContext(topic=topic)), offset)
            for offset, (_, key, event) in enumerate(items)]


def _input_only(events: int, warm: int, mix: str) -> int:
    """Builds ``run``'s input and nothing else (``--input-only``); returns how many records."""
    from bus.config import load_settings
    from bus.serde import build_serde
    from bus.topics import CONTACT_EVENTS

    settings = load_settings(metrics={"enabled": False})
    serializer, _ = build_serde(settings.registry)
    return len(inputs(serializer, CONTACT_EVENTS.name(settings.topics), events, warm, mix))


def run(events: int, warm: int, batch: int, profile: str | None = None, contacts_store: str = "memory",
        datadir: str | None = None, mix: str = "contacts") -> dict[str, float]:
    """CPU per measured event of the worker's own work (see the module); ``profile``: cProfile stats file;
    ``contacts_store`` ``rocksdb``: the contact records in the worker's RocksDB store (``identity_memory_disk``, its
    databases in ``datadir``), else in a dict as the memory store holds them; ``mix`` ``repeat``: the measured events
    all repeat a combination of the warm events (``identity_workload.repeat_contacts``), else the warm events' mix
    goes on. ``fast_share`` in the result: the measured events intake sent the fast way (a ``Fast`` message)."""
    from bus.config import load_settings
    from bus.consume import RecordDecoder
    from bus.serde import SerdeContext, build_serde
    from bus.topics import CONTACT_EVENTS
    from processors.identity import metrics
    from processors.identity.announcements import Announcer
    from processors.identity.fastpath import AssignmentView
    from processors.identity.graph.engine import IdentityGraph
    from processors.identity.graph.messages import kind
    from processors.identity.graph.messages.steps import Fast
    from processors.identity.graph.outputs import Output, Send
    from processors.identity.intake import Intake, event_ref, ref_loader
    from processors.identity.lifecycle import freeze_startup_objects
    from processors.identity.normalize import IdentifierNormalizer
    from processors.identity.rules import LinkPolicy
    from processors.identity.store import CONTACTS_TABLE, FaustTables, Overlay
    from processors.identity.wire import RoutingSerializer, bundle, decode_record, reusable_records
    from processors.profile.book import ProfileBook
    from tests.processors.identity.support import settings as identity_settings

    freeze_startup_objects()  # the collector as a worker sets it (lifecycle.py): else GC is a third of the CPU
    settings = load_settings(metrics={"enabled": False})
    identity = identity_settings()
    serializer, deserializer = build_serde(settings.registry)
    routing = RoutingSerializer(serializer)
    book = ProfileBook.from_registry()
    view = AssignmentView()
    intake = Intake(IdentifierNormalizer(identity, settings.identifiers), book, view=view)
    load_event = ref_loader(deserializer)
    graph = IdentityGraph(LinkPolicy(identity), book, load_event, dedupe_window=identity.dedupe_window)
    announcer = Announcer(settings.topics, load_event, reusable=reusable_records(settings))
    nodes, profiles, contacts = _Table("identity-nodes"), _Table("identity-profiles"), _Table(CONTACTS_TABLE)
    if contacts_store == "rocksdb":
        from tests.bench.identity_memory_disk import contacts_table_in

        contacts.data = contacts_table_in(datadir or tempfile.mkdtemp(prefix="omnibus-hotpath-"), "hotpath", 4).data
    store = FaustTables(nodes, profiles, contacts, lambda: 4)
    topic = CONTACT_EVENTS.name(settings.topics)

    class _DeadLetters:
        async def write_error(self, error: Exception) -> None:
            raise error

    decoder = RecordDecoder(deserializer, _DeadLetters())  # type: ignore[arg-type]
    records = inputs(serializer, topic, events, warm, mix)
    written = Counter[str]()
    by_changelog = Counter[str]()  # changelog topic -> bytes (keys and values)

    def handle(overlay: Overlay, node: str, message: Any, outputs: list[Output], kinds: Counter[str]) -> None:
        transaction = Overlay(overlay)
        produced = graph.handle(transaction, node, message)
        transaction.commit()
        outputs.extend(produced)
        kinds[kind(message)] += 1

    def publish(outputs: list[Output]) -> list[Send]:
        """Every non-``Send`` output serialized as the producer would; the ``Send``s bundled, encoded and decoded
        as the graph topic carries them (returned for the next graph round)."""
        sends = [output for output in outputs if isinstance(output, Send)]
        for output in outputs:
            if isinstance(output, Send):
                continue
            for item in announcer.outgoing(output):
                event = getattr(item, "event", None)
                value = b"" if event is None else routing(event, SerdeContext(topic=item.topic))
                written[item.topic] += 1
                written["bytes"] += len(value)
        round_trip: list[Send] = []
        for key, data in bundle(sends, 4):
            written["graph"] += 1
            round_trip.extend(Send(node, message) for node, message in decode_record(data, key))
        return round_trip

    def after(outputs: list[Output], kinds: Counter[str]) -> None:
        view.learn_outputs(outputs)
        metrics.observe(outputs, time.time())
        for name, count in kinds.items():
            metrics.GRAPH_MESSAGES.labels(kind=name).inc(count)

    def commit(overlay: Overlay) -> None:
        overlay.commit()
        for record in store.drain_changelog(1):
            written["changelog"] += 1
            written["changelog_bytes"] += len(record.key or b"") + len(record.value or b"")
            by_changelog[record.topic] += len(record.key or b"") + len(record.value or b"")

    def one_batch(chunk: list[_Record]) -> None:
        outputs: list[Output] = []
        for record in chunk:
            decoded = _done(decoder.decode(record))  # type: ignore[arg-type]
            assert decoded is not None
            ref = event_ref(record.topic, decoded, record.value)
            load_event.keep(ref, decoded)
            begun = intake.start(decoded, ref)
            written["fast"] += any(isinstance(out, Send) and isinstance(out.message, Fast) for out in begun)
            outputs.extend(begun)
        # repeat contacts applied at intake (ApplyHere: every partition is this worker's)
        overlay, kinds, published = Overlay(store), Counter[str](), []
        for output in outputs:
            if isinstance(output, Send) and isinstance(output.message, Fast):
                handle(overlay, output.node, output.message, published, kinds)
            else:
                published.append(output)
        pending = publish(published)
        commit(overlay)
        after(published, kinds)
        while pending:  # the graph stage, round after round, until the batch's sagas are done
            overlay, kinds, produced = Overlay(store), Counter[str](), []
            for send in pending:
                handle(overlay, send.node, send.message, produced, kinds)
            pending = publish(produced)
            commit(overlay)
            after(produced, kinds)

    def feed(part: list[_Record]) -> None:
        for start in range(0, len(part), batch):
            one_batch(part[start:start + batch])

    feed(records[:warm])
    written.clear()
    by_changelog.clear()
    gc.collect()
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall time (a loaded machine)
    started = time.process_time()
    if profiler is not None:
        profiler.enable()
    feed(records[warm:])
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)  # type: ignore[arg-type]
    cpu = time.process_time() - started
    count = len(records) - warm
    out_records = sum(n for name, n in written.items() if name not in ("bytes", "changelog_bytes", "fast"))
    return {"events": count, "cpu_us_per_event": cpu / count * 1e6, "records_per_event": out_records / count,
            "fast_share": written["fast"] / count,
            "changelog_bytes_per_event": written["changelog_bytes"] / count,
            **{f"changelog_bytes_per_event {topic}": size / count for topic, size in sorted(by_changelog.items())}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="measured events")
    parser.add_argument("--warm", type=int, default=5_000, help="events run first to build the state")
    parser.add_argument("--batch", type=int, default=500, help="records per intake batch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="cProfile stats file of the first run")
    parser.add_argument("--mix", choices=("contacts", "repeat"), default="contacts",
                        help="the measured events: the contact mix going on (80%% repeat), or repeat contacts only")
    parser.add_argument("--contacts-store", choices=("memory", "rocksdb"), default="memory",
                        help="where the contact records are kept (IdentitySettings.contacts_store)")
    parser.add_argument("--input-only", action="store_true",
                        help="build and encode the input, nothing more: what two runs' difference counts besides the "
                             "worker (subtract it from a cachegrind count)")
    args = parser.parse_args(argv)
    if args.input_only:
        print(f"input records {_input_only(args.events, args.warm, args.mix)}")
        return
    with tempfile.TemporaryDirectory(prefix="omnibus-hotpath-") as datadir:
        runs = [run(args.events, args.warm, args.batch, args.profile if index == 0 and args.profile else None,
                    args.contacts_store, f"{datadir}/{index}", args.mix) for index in range(args.repeat)]
    cpu = [result["cpu_us_per_event"] for result in runs]
    print(f"cpu µs per event: runs {' / '.join(f'{value:.1f}' for value in cpu)}, median {statistics.median(cpu):.1f}"
          f"{' (first run profiled)' if args.profile else ''}")
    print(f"fast share {runs[-1]['fast_share']:.3f}, records per event {runs[-1]['records_per_event']:.2f}, "
          f"changelog bytes per event {runs[-1]['changelog_bytes_per_event']:.0f}: "
          + ", ".join(f"{name.split(' ')[1]} {value:.0f}" for name, value in runs[-1].items()
                      if name.startswith("changelog_bytes_per_event ")))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
