"""Identity state memory, part by part, and the graph's CPU per event in process (no Kafka).

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_memory --identifiers 200000 --events 20000

``state_memory(n)``: builds the graph and profiles of ``n`` identifiers with the in-process harness
(two identifiers per person, every 10th event links two people through an account, every event a
contact), then measures with tracemalloc the tables as faust's memory store holds them: a dict of
bytes keys to the values the table keeps (msgpack bytes since typed states; JSON-decoded dicts before).
Reported per identifier, split into identifier nodes, customer nodes, blocking nodes and profiles.

``cpu_per_event(n)``: CPU (``time.process_time``) per event of intake and of the graph handlers on a
realistic mix (80% repeat contacts, 20% new or linking), with every graph message round-tripped
through the graph topic's encoding and every state through the table encoding
(``store.FaustTables`` over an in-memory table), as the processor does. Kafka and faust are not in
the loop: this is the part the representation decides. ``tests.bench.identity`` may call both.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bus.serde import Event
from processors.identity import wire
from processors.identity.graph.outputs import Send
from processors.identity.store import CONTACTS_TABLE, FaustTables
from tests.processors.identity.support import Harness, interaction, settings

TOPIC = "bench.contact.events.v1"


class _Topic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class _MemoryTable:
    """What ``FaustTables`` uses of a faust table: ``data``, its codec and changelog topic, and (versions
    before the changelog went through aiokafka) ``send_changelog``, encoded like faust's json codec."""

    value_serializer = "raw"

    def __init__(self, name: str = "identity-nodes") -> None:
        self.data: dict[bytes, Any] = {}
        self.changelog_bytes = 0
        self.changelog_topic = _Topic(f"{name}-changelog")

    def send_changelog(self, partition: int, key: bytes, value: Any, **_: Any) -> None:
        if value is not None and not isinstance(value, bytes):
            value = json.dumps(value).encode()  # faust's default json value serializer (states before msgpack)
        self.changelog_bytes += len(key) + len(value or b"")


class _Wire:
    bytes = 0  # graph message bytes encoded so far (one message per record: the bundling is left out)


def _encoded_harness() -> tuple[Harness, _MemoryTable, _MemoryTable]:
    harness = Harness(settings())
    nodes, profiles, contacts = _MemoryTable(), _MemoryTable("identity-profiles"), _MemoryTable(CONTACTS_TABLE)
    tables = FaustTables(nodes, profiles, contacts, lambda: 1)
    harness.local.store = tables  # type: ignore[assignment]
    plain_submit = harness.local.submit
    graph_changelogs = {nodes.changelog_topic.name, contacts.changelog_topic.name}  # the contact records were nodes'

    def submit(outputs: list[Any]) -> None:  # every graph message through the wire encoding, as on Kafka
        for record in getattr(tables, "drain_changelog", lambda _version: [])(1):  # queued for aiokafka
            if record.topic in graph_changelogs:
                nodes.changelog_bytes += len(record.key or b"") + len(record.value or b"")
        sent = []
        for output in outputs:
            if isinstance(output, Send) and hasattr(wire, "decode_record"):
                data = wire.encode_record([(output.node, output.message)])
                _Wire.bytes += len(data)
                ((node, message),) = wire.decode_record(data)
                output = Send(node, message)
            elif isinstance(output, Send):  # the JSON protocol before typed messages
                data = wire.encode_message(output.message)  # type: ignore[call-arg, arg-type]
                _Wire.bytes += len(data)
                output = Send(output.node, wire.decode_message(data))  # type: ignore[attr-defined]
            sent.append(output)
        plain_submit(sent)

    harness.local.submit = submit  # type: ignore[method-assign]
    return harness, nodes, profiles


def _person(index: int) -> list[tuple[str, str]]:
    return [("PHONE", f"+86139{index:08d}"), ("EMAIL", f"p{index}@example.org")]


def allocated(size: int) -> int:
    """Bytes CPython's allocator hands out for an object of ``size`` bytes: pymalloc's 8-byte size classes up
    to 512 bytes, beyond that the system allocator (counted as 16-byte granules)."""
    return (size + 7) & ~7 if size <= 512 else (size + 15) & ~15


def held_bytes(data: dict[bytes, bytes]) -> dict[str, int]:
    """What a faust memory store's ``data`` dict of ``bytes`` keys to ``bytes`` values holds: ``container``
    (the dict's own table), ``keys`` and ``values`` (each object, as allocated), and ``index``, the
    ``_key_partition`` dict faust's memory store adds for every key it restores from the changelog or
    replays as a standby (its keys are the same objects, its values small cached ints: only the table)."""
    return {"container": sys.getsizeof(data), "keys": sum(allocated(sys.getsizeof(key)) for key in data),
            "values": sum(allocated(sys.getsizeof(value)) for value in data.values()),
            "index": sys.getsizeof(dict.fromkeys(data, 0)), "entries": len(data)}


def _people(identifiers: int, contacts: int = 1) -> Iterator[Event]:
    """The issue's memory workload: a person per event with a phone and an e-mail, every 10th event an
    account too, shared with the event 10 before (it links two people), every event one contact; with
    ``contacts`` > 1 each person's first contact is followed by ``contacts - 1`` repeat contacts (the same
    identifiers, later instants: the history a customer keeps, ``split_contacts.py``), all people's first contacts
    before any repeat, as a steady stream has them."""
    for repeat in range(contacts):
        for index in range(0, identifiers, 2):
            person = _person(index)
            if index % 10 == 0 and index:
                person.append(("ACCOUNT", f"ACC-{index // 20}"))  # every 10th event links two people
            yield interaction(person, minutes=repeat * 1000 + index % 1000)


def build_tables(events: Iterable[Event]) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    """The node and profile tables' ``data`` as an identity worker holds them after ``events`` (``build_state``), the
    contact records' table (``cus_.../...`` keys, ``split_contacts.py``) counted with the nodes, part of the customers:
    a worker whose ``contacts_store`` is ``memory``."""
    nodes, profiles, contacts = build_state(events)
    return {**nodes, **contacts}, profiles


def build_state(events: Iterable[Event]) -> tuple[dict[bytes, bytes], dict[bytes, bytes], dict[bytes, bytes]]:
    """The node, profile and contacts tables' ``data`` after ``events``: built with the real intake, graph handlers
    and profile book in process (``Harness``), then every state written once through ``store.FaustTables`` (msgpack
    / compressed bytes, the changelog's bytes) into a plain dict each."""
    harness = Harness(settings())  # handlers on objects (faster), then written once as the tables hold them
    for event in events:
        harness.feed(event, topic=TOPIC)
    nodes, profiles, contacts = _MemoryTable(), _MemoryTable("identity-profiles"), _MemoryTable(CONTACTS_TABLE)
    tables = FaustTables(nodes, profiles, contacts, lambda: 1)
    store = harness.local.store
    for key in list(store.nodes):
        tables.put_node(key, store.nodes.pop(key))  # type: ignore[arg-type]
    for key in list(store.profiles):
        tables.put_profile(key, store.profiles.pop(key))
    for key in list(store.contacts):
        tables.put_contact(key, store.contacts.pop(key))
    tables.drain_changelog(1)
    return nodes.data, profiles.data, contacts.data


def _part(key: bytes) -> str:
    if key.startswith(b"cus_"):
        return "contact" if b"/" in key else "customer"  # a contact record: split_contacts.contact_key
    return "blocking" if key.startswith(b"BLOCK:") else "identifier"


def parts_of(nodes: dict[bytes, bytes]) -> dict[str, tuple[int, int]]:
    """Node table entries per part (identifier, customer, blocking nodes): ``(count, bytes of their keys and
    values as allocated)``."""
    parts = {"identifier": [0, 0], "customer": [0, 0], "blocking": [0, 0], "contact": [0, 0]}
    for key, value in nodes.items():
        part = parts[_part(key)]
        part[0] += 1
        part[1] += allocated(sys.getsizeof(key)) + allocated(sys.getsizeof(value))
    return {name: (count, held) for name, (count, held) in parts.items()}


def plain_customers(nodes: dict[bytes, bytes]) -> int:
    """Bytes the customer states of ``nodes`` would take more (or less) as allocated in their plain form, as the node
    table held them before ``customer_codec.CUSTOMER_ZSTD_V1``, than as stored (0 on a tree before the codec)."""
    try:
        from processors.identity.graph.customer_codec import plain_customer
    except ImportError:
        return 0
    return sum(allocated(sys.getsizeof(plain_customer(value))) - allocated(sys.getsizeof(value))
               for key, value in nodes.items() if _part(key) == "customer")


def held_profiles(nodes: dict[bytes, bytes]) -> tuple[int, int]:
    """(customer values holding their profile, the profiles' bytes in them: ``customer_codec.CUSTOMER_WITH_PROFILE``),
    part of the customer part; (0, 0) on a tree that keeps every profile as a row of the profile table."""
    try:
        from processors.identity.graph.customer_codec import profile_part
    except ImportError:
        return 0, 0
    held = [part for key, value in nodes.items() if _part(key) == "customer" and (part := profile_part(value))]
    return len(held), sum(map(len, held))


def table_memory(nodes: dict[bytes, bytes], profiles: dict[bytes, bytes]) -> dict[str, Any]:
    """Bytes per identifier of each part of the two tables (``held_bytes``): each part's keys and values,
    plus its share of its table's dict by entries; and faust's key -> partition index after a restore."""
    return per_identifier(held_bytes(nodes), held_bytes(profiles), parts_of(nodes))


def per_identifier(node_bytes: dict[str, int], profile_bytes: dict[str, int],
                   parts: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """``table_memory`` from the figures of ``held_bytes`` and ``parts_of`` (also as a worker reports them)."""
    counts = {part: count for part, (count, _) in parts.items()}
    objects = {part: held for part, (_, held) in parts.items()}
    per = max(counts["identifier"], 1)
    result: dict[str, Any] = {"identifiers": counts["identifier"], "customers": counts["customer"],
                              "nodes": node_bytes, "profiles": profile_bytes}
    for part, count in counts.items():
        share = node_bytes["container"] * count / max(node_bytes["entries"], 1)
        result[f"{part}_bytes"] = (objects[part] + share) / per
    result["graph_bytes"] = sum(result[f"{part}_bytes"] for part in counts)
    result["profile_bytes"] = (profile_bytes["container"] + profile_bytes["keys"] + profile_bytes["values"]) / per
    result["total_bytes"] = result["graph_bytes"] + result["profile_bytes"]
    result["restore_index_bytes"] = (node_bytes["index"] + profile_bytes["index"]) / per
    if "held_index" in node_bytes:  # measured on the store itself (a worker's report, or ``restore``)
        result["held_index_bytes"] = (node_bytes["held_index"] + profile_bytes["held_index"]) / per
    return result


def worker_report(processor: Any) -> dict[str, Any]:
    """What an identity worker holds (``identity_worker``'s ``BENCH_IDENTITY_MEMORY`` report): ``held_bytes`` of
    each table's data, plus ``held_index``, the bytes of its store's key -> partition dict as it is, and the
    store's class; and ``parts_of`` the node table."""
    report: dict[str, Any] = {}
    for name, table in (("nodes", processor.nodes), ("profiles", processor.profiles)):
        store = table.data
        report[name] = {**held_bytes(store.data), "held_index": sys.getsizeof(store._key_partition),
                        "index_entries": len(store._key_partition), "store": type(store).__name__}
    # the contact records (their table's dict itself left out) with the nodes, as ``build_tables`` counts them
    contacts = processor.contacts.data
    if hasattr(contacts, "memory_bytes"):  # on disk (contacts_store rocksdb): RocksDB's memory, its entries apart
        report["contacts_on_disk"] = {**contacts.memory_bytes(),
                                      "entries": sum(1 for _ in contacts.held())}
        report["parts"] = parts_of(processor.nodes.data.data)
    else:
        report["parts"] = parts_of({**processor.nodes.data.data, **contacts.data})
    return report


RESTORE_PARTITIONS = 4  # the bench's changelog partitions when it restores in process
RESTORE_CHUNK = 10_000  # changelog records per apply_changelog_batch call, as faust's recovery hands them in batches


def restore(tables: tuple[dict[bytes, bytes], dict[bytes, bytes]], key_partitioned: bool) -> dict[str, Any]:
    """The node and profile tables restored from their changelogs in process through the real restore path: a
    ``bus.fenced_table`` table's ``apply_changelog_batch`` (the fence, then the store), every record in its key's
    partition (``murmur2 % RESTORE_PARTITIONS``, as ``store.FaustTables`` writes it). ``key_partitioned``: the
    identity tables' store (``bus.key_partitioned_store``), else faust's memory store. Returns ``per_identifier``
    of what the restored stores hold, ``held_index_bytes`` being their actual key -> partition dicts."""
    import faust

    from bus.config import TopicSettings
    from bus.fenced_table import fenced_table
    from bus.fencing import fence_headers
    from bus.partitioner import key_hash

    headers = list(fence_headers(1))
    app = faust.App(f"bench-restore-{key_partitioned}", broker="kafka://127.0.0.1:1", store="memory://")
    held: dict[str, dict[str, int]] = {}
    for name, data in zip(("nodes", "profiles"), tables, strict=True):
        table = fenced_table(app, f"identity-{name}", TopicSettings(), key_type=bytes, value_type=bytes,
                             partitions=RESTORE_PARTITIONS, use_partitioner=key_partitioned)
        items = iter(data.items())
        offset = 0
        while chunk := [next(items, None) for _ in range(RESTORE_CHUNK)]:
            records = [record for record in chunk if record is not None]
            if not records:
                break
            batch = []
            for key, value in records:
                message = _Message(key_hash(key) % RESTORE_PARTITIONS, offset, headers, value, key)
                batch.append(_Event(key, value, message))
                offset += 1
            table.apply_changelog_batch(batch)
        store = table.data
        held[name] = {**held_bytes(store.data), "held_index": sys.getsizeof(store._key_partition)}
        assert store.data == data  # the restore holds exactly what the worker held
    return per_identifier(held["nodes"], held["profiles"], parts_of(tables[0]))


class _Message:
    __slots__ = ("partition", "offset", "headers", "value", "key")

    def __init__(self, partition: int, offset: int, headers: list[Any], value: bytes, key: bytes) -> None:
        self.partition, self.offset, self.headers, self.value, self.key = partition, offset, headers, value, key


class _Event:
    __slots__ = ("key", "value", "message")

    def __init__(self, key: bytes, value: bytes, message: _Message) -> None:
        self.key, self.value, self.message = key, value, message


def traced(nodes: dict[bytes, bytes], profiles: dict[bytes, bytes]) -> float:
    """The same tables copied under tracemalloc (new objects: nothing shared), bytes per identifier: a check
    of ``table_memory``'s arithmetic (tracemalloc counts requested sizes, not pymalloc's size classes)."""
    identifiers = sum(1 for key in nodes if _part(key) == "identifier")
    gc.collect()
    tracemalloc.start()
    copies = [{bytes(bytearray(k)): bytes(bytearray(v)) for k, v in table.items()} for table in (nodes, profiles)]
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del copies
    return held / max(identifiers, 1)


def state_memory(identifiers: int) -> dict[str, Any]:
    """Bytes per identifier of each part of the state of ``identifiers`` identifiers (the issue's workload,
    ``_people``), as an identity worker's memory stores hold the two tables (``table_memory``)."""
    nodes, profiles = build_tables(_people(identifiers))
    return table_memory(nodes, profiles)


def _workload(events: int, seed: int) -> list[Any]:
    """80% repeat contacts of known people, 20% a new person or a second person's phone seen with another."""
    rng = random.Random(seed)
    known: list[int] = []
    items = []
    for index in range(events):
        roll = rng.random()
        if known and roll < 0.8:
            person = _person(rng.choice(known))
        elif known and roll < 0.85:
            person = [_person(rng.choice(known))[0], _person(index)[1]]  # a known phone with a new e-mail
            known.append(index)
        else:
            person = _person(index)
            known.append(index)
        items.append(interaction(person, minutes=index))
    return items


def cpu_per_event(events: int, seed: int = 3, profile: bool = False) -> dict[str, Any]:
    """µs of CPU per event: intake (normalise, start the saga) and graph (handlers, wire and table
    encoding) apart, and graph messages and changelog bytes per event. The events' Avro encoding (the
    input record) is done before the clock starts."""
    from bus.serde import SerdeContext
    from processors.identity.intake import event_ref
    from tests.processors.identity.support import SERIALIZER

    harness, nodes, _ = _encoded_harness()
    items = [(event, SERIALIZER(event, SerdeContext(topic=TOPIC))) for event in _workload(events, seed)]
    warm = len(items) // 10
    for event, raw in items[:warm]:
        harness.local.submit(harness.intake.start(event, event_ref(TOPIC, event, raw)))
        harness.local.run()
    delivered, changelog, sent = harness.local.delivered, nodes.changelog_bytes, _Wire.bytes
    profiler = cProfile.Profile() if profile else None
    intake_s = graph_s = 0.0
    if profiler:
        profiler.enable()
    for event, raw in items[warm:]:
        start = time.process_time()
        outputs = harness.intake.start(event, event_ref(TOPIC, event, raw))
        middle = time.process_time()
        harness.local.submit(outputs)
        harness.local.run()
        intake_s, graph_s = intake_s + middle - start, graph_s + time.process_time() - middle
    if profiler:
        profiler.disable()
    measured = len(items) - warm
    result: dict[str, Any] = {"events": measured, "intake_us_per_event": intake_s / measured * 1e6,
                              "graph_us_per_event": graph_s / measured * 1e6,
                              "messages_per_event": (harness.local.delivered - delivered) / measured,
                              "changelog_bytes_per_event": (nodes.changelog_bytes - changelog) / measured,
                              "graph_bytes_per_event": (_Wire.bytes - sent) / measured}
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        result["profile"] = out.getvalue()
    return result


async def _through_kafka(events: list[Event], workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One identity worker process fed ``events`` through Kafka: its tables as it holds them once every
    contact is announced (``identity_worker``'s ``BENCH_IDENTITY_MEMORY`` report), per identifier; then the
    same of a fresh worker that restored them from their changelogs (the real restore path)."""
    from bus.stack.kafka import KafkaBroker
    from tests.bench.identity import event_ids, finished
    from tests.bench.identity_runs import Workers, load, wait_for_group
    from tests.bench.identity_workload import CONTACTS
    from tests.support.settings import settings_with_topics

    broker = KafkaBroker(workdir / "broker").start()
    try:
        settings = await settings_with_topics(broker.bootstrap_servers, partitions=4)
        items = [(CONTACTS, event.value["customer_identifiers"][0]["value"], event) for event in events]
        report, restored = workdir / "memory.json", workdir / "restored.json"
        await load(settings, items)
        async with Workers("identity", 1, settings, workdir, {"BENCH_IDENTITY_MEMORY": str(report)}) as running:
            await finished(settings, "identity", event_ids(items), running, 1800)
            await asyncio.sleep(2)  # the last batch's changelog and profile writes
        held = json.loads(report.read_text())
        # A fresh worker of the same group restores both tables from their changelogs (faust's recovery).
        for wait_s in (5, 15, 45):
            async with Workers("identity", 1, settings, workdir, {"BENCH_IDENTITY_MEMORY": str(restored)}) as again:
                await wait_for_group(settings, f"{settings.topics.prefix}.identity", 1, again)
                await asyncio.sleep(wait_s)
            after = json.loads(restored.read_text())
            if all(after[name]["entries"] == held[name]["entries"] for name in ("nodes", "profiles")) and \
                    after.get("contacts_on_disk", {}).get("entries") == held.get("contacts_on_disk", {}).get("entries"):
                break
        else:
            raise TimeoutError(f"the restarted worker did not restore every key: {after} against {held}")
    finally:
        broker.stop()
    return _reported(held), _reported(after)


def _reported(report: dict[str, Any]) -> dict[str, Any]:
    """``per_identifier`` of a worker's report, the contact records' RocksDB memory (if on disk) as their part."""
    result = per_identifier(report["nodes"], report["profiles"], {k: tuple(v) for k, v in report["parts"].items()})
    if on_disk := report.get("contacts_on_disk"):
        per = max(result["identifiers"], 1)
        result["contact_bytes"] = sum(v for k, v in on_disk.items() if k not in ("disk", "entries")) / per
        result["graph_bytes"] += result["contact_bytes"]
        result["total_bytes"] += result["contact_bytes"]
        result["contact_disk_bytes"] = on_disk["disk"] / per
        result["contact_entries"] = on_disk["entries"]
    return result


def cross_check(identifiers: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The same events (``_people``) built in process and fed to a worker through Kafka: both measurements, and
    what a second worker holds once it restored the tables from their changelogs."""
    events = list(_people(identifiers))
    with tempfile.TemporaryDirectory(prefix="omnibus-memory-") as tmp:
        worker, restored = asyncio.run(_through_kafka(events, Path(tmp)))
    return table_memory(*build_tables(events)), worker, restored


def _contacts_on_disk(contacts: dict[bytes, bytes], memory: dict[str, Any], restore: bool) -> dict[str, Any]:
    """The contact records written to the RocksDB store (``identity_memory_disk``): RocksDB's memory counted as the
    ``contact`` part of ``memory`` (per identifier, its totals updated); the figures returned."""
    from tests.bench.identity_memory_disk import contacts_on_disk

    started = time.process_time()
    disk = contacts_on_disk(contacts, restore=restore)
    per = max(memory["identifiers"], 1)
    memory["contact_bytes"] = disk["memory"] / per
    memory["graph_bytes"] += memory["contact_bytes"]
    memory["total_bytes"] += memory["contact_bytes"]
    print(f"  contact records written to RocksDB in {time.process_time() - started:.0f} s of CPU"
          + (f"; restored: {disk['restored']['memory'] / per:.1f} B per identifier in memory, "
             f"{disk['restored']['disk'] / per:.1f} on disk" if restore else ""))
    return disk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=1,
                        help="contacts per person in the memory workload (1: each person's first contact only)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--traced", action="store_true", help="check the arithmetic with tracemalloc")
    parser.add_argument("--restore", action="store_true",
                        help="also restore the tables in process through faust's and the identity tables' store")
    parser.add_argument("--contacts-store", choices=("rocksdb", "memory"), default="rocksdb",
                        help="where the contact records are kept, as IdentitySettings.contacts_store")
    parser.add_argument("--kafka", type=int, default=0, metavar="IDENTIFIERS",
                        help="cross-check: this many identifiers in process and through a worker on Kafka")
    args = parser.parse_args()
    if args.events:
        cpu = cpu_per_event(args.events, profile=args.profile)
        print(f"CPU per event over {cpu['events']} events: intake {cpu['intake_us_per_event']:.1f} µs, "
              f"graph {cpu['graph_us_per_event']:.1f} µs (handlers, wire and table encoding), "
              f"{cpu['messages_per_event']:.2f} graph messages/event, "
              f"{cpu['changelog_bytes_per_event']:.0f} node changelog bytes/event, "
              f"{cpu['graph_bytes_per_event']:.0f} graph topic bytes/event")
        if args.profile:
            print(cpu["profile"])
    if args.identifiers:
        started = time.process_time()
        nodes, profiles, contacts = build_state(_people(args.identifiers, args.contacts))
        built = time.process_time() - started
        on_disk = args.contacts_store == "rocksdb"
        if not on_disk:
            nodes = {**nodes, **contacts}
        memory = table_memory(nodes, profiles)
        print(f"Memory ({memory['identifiers']:,} identifiers, {memory['customers']:,} customer nodes, "
              f"{args.contacts} contact(s) per person, {len(contacts):,} contact records in "
              f"{args.contacts_store}; built in {built:.0f} s of CPU), bytes per identifier:")
        if on_disk:
            disk = _contacts_on_disk(contacts, memory, args.restore)
        for part in ("identifier", "customer", "contact", "blocking", "graph", "profile", "total"):
            print(f"  {part:<10} {memory[f'{part}_bytes']:8.1f}")
        if on_disk:
            heap = held_bytes(contacts)
            print(f"  the same records in the heap (contacts_store memory, a dict of their own): "
                  f"{(heap['container'] + heap['keys'] + heap['values']) / memory['identifiers']:.1f} B per identifier")
            print(f"  the contact records on disk: {disk['disk'] / memory['identifiers']:.1f} B per identifier "
                  f"({disk['disk']:,} B for {disk['entries']:,} records); in memory RocksDB's {disk['figures']} B, "
                  f"the resident set grew {disk['resident']:,} B while they were written")
        plain = plain_customers(nodes) / memory["identifiers"]
        print(f"  customer states in their plain form (before customer_codec.CUSTOMER_ZSTD_V1): {plain:+.1f} B per "
              f"identifier, total {memory['total_bytes'] + plain:.1f}")
        holding, held = held_profiles(nodes)
        print(f"  profiles kept in their customer's value (no profile row): {holding:,}, "
              f"{held / memory['identifiers']:.1f} B per identifier of the customer part")
        print(f"  + faust's key -> partition index after a restore: {memory['restore_index_bytes']:.1f}")
        for name in ("nodes", "profiles"):
            table = memory[name]
            print(f"  {name} table: {table['entries']:,} entries, dict {table['container']:,} B, keys "
                  f"{table['keys']:,} B, values {table['values']:,} B")
        if args.traced:
            print(f"  tracemalloc check (requested sizes, no size classes): {traced(nodes, profiles):.1f}")
        if args.restore:
            for key_partitioned, label in ((False, "faust's memory store"), (True, "key-partitioned store")):
                started = time.process_time()
                after = restore((nodes, profiles), key_partitioned)
                print(f"  after a restore into {label} ({time.process_time() - started:.0f} s of CPU): tables "
                      f"{after['total_bytes']:.1f} + its key -> partition index {after['held_index_bytes']:.1f} = "
                      f"{after['total_bytes'] + after['held_index_bytes']:.1f}")
    if args.kafka:
        local, worker, restored = cross_check(args.kafka)
        print(f"Cross-check, {local['identifiers']:,} identifiers in process / {worker['identifiers']:,} in the "
              "worker fed through Kafka / in a fresh worker once restored from the changelogs, bytes per identifier:")
        for part in ("identifier", "customer", "contact", "blocking", "graph", "profile", "total", "held_index"):
            print(f"  {part:<10} {local.get(f'{part}_bytes', float('nan')):8.1f} {worker[f'{part}_bytes']:8.1f} "
                  f"{restored[f'{part}_bytes']:8.1f}")
        print(f"  restored worker: tables + its key -> partition index = "
              f"{restored['total_bytes'] + restored['held_index_bytes']:.1f}")


if __name__ == "__main__":
    main()
