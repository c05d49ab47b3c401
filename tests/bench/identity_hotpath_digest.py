"""What the identity hot-path bench writes, as SHA-256 digests: a change that claims no behaviour change keeps them.

    cd TREE && PYTHONHASHSEED=0 PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_hotpath_digest --events 2000

``tests.bench.identity_hotpath.run`` with, digested in order: every changelog record (topic, key, partition, value; a
contact record's value as its plain msgpack array, whatever format the contacts table stores it in:
``graph/contact_codec.py``; a customer's node state as its plain form, compressed or not: ``graph/customer_codec.py``;
an owned identifier's as its plain form, packed in either format or not: ``graph/identifier_codec.py``; a profile as
its plain msgpack map, whichever format compressed it: ``graph/profile_codec.py``), and every output record the
announcer's serializer writes (topic and bytes); and ``tables``: at each drain, every node or profile key it wrote
with its node state and profile as the tables read them back (plain msgpack, keys sorted), the same whichever table
keeps a customer's profile (a row of its own, or its node value since ``customer_codec.CUSTOMER_WITH_PROFILE``,
where the changelog digest differs). The clocks that stamp records are replaced (``time.time`` by a counter, the
announcer's clock by a fixed instant plus a µs a call), so two runs of one tree give the same digests (with
``PYTHONHASHSEED`` fixed: set orders). Run it as a process of its own: the graph, its nodes and intake take
``time.time`` as a default argument when their modules are imported, so the counter must be in place before
(``digesting`` puts it there first). The logic runs on trees that predate the contact and customer codecs too (their
values are plain already).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import importlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

START_S = 1_700_000_000.0  # the counter's first ``time.time``
TICK_S = 0.001
ANNOUNCED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@contextlib.contextmanager
def digesting() -> Iterator[dict[str, Any]]:
    """Patches the clocks, the changelog drain and the output serializer while it is open; yields the running
    ``{"changelog": sha256, "outputs": sha256, "changelog_records": n, "output_records": n}``. The counter replaces
    ``time.time`` before identity's modules are imported (in a process that imported them before, their defaults
    keep the real clock: the changelog digest would not repeat)."""
    ticks, micros, clock = itertools.count(), itertools.count(), time.time
    time.time = lambda: START_S + next(ticks) * TICK_S
    from processors.identity import announcements, store, wire
    from processors.identity.graph.profile_codec import decode_profile

    try:
        from processors.identity.graph.contact_codec import decode_contact
    except ImportError:  # a tree before the codec: its contact values are the plain array
        decode_contact = None
    try:
        from processors.identity.graph.customer_codec import plain_customer
    except ImportError:  # a tree before the codec: its customer states are plain
        def plain_customer(data: bytes) -> bytes:
            return data
    plain_node = _plain_node(plain_customer)
    found: dict[str, Any] = {"changelog": hashlib.sha256(), "outputs": hashlib.sha256(), "tables": hashlib.sha256(),
                             "changelog_records": 0, "output_records": 0, "table_keys": 0}
    plain = msgspec.msgpack.Encoder()
    drain, serialize, announcer_init = (store.FaustTables.drain_changelog, wire.RoutingSerializer.__call__,
                                        announcements.Announcer.__init__)

    def drained(self: Any, version: int) -> Any:
        records = drain(self, version)
        for record in records:
            value = record.value
            if value is not None and decode_contact is not None and "contacts" in record.topic:
                value = plain.encode(decode_contact(value))
            elif value is not None and "nodes" in record.topic:
                value = plain_node(value)
            elif value is not None and "profiles" in record.topic:
                value = plain.encode(decode_profile(value))
            found["changelog"].update(repr((record.topic, record.key, record.partition, value)).encode())
            found["changelog_records"] += 1
        for key in sorted({record.key for record in records if "nodes" in record.topic or "profiles" in record.topic}):
            node, profile = self.get_node(key.decode()), self.get_profile(key.decode())
            found["tables"].update(repr((key, None if node is None else plain.encode(node),
                                         None if profile is None else plain.encode(profile))).encode())
            found["table_keys"] += 1
        return records

    def serialized(self: Any, event: Any, context: Any) -> bytes:
        data = serialize(self, event, context)
        found["outputs"].update(repr((context.topic, data)).encode())
        found["output_records"] += 1
        return data

    def announcer(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["clock"] = lambda: ANNOUNCED_AT + datetime.timedelta(microseconds=next(micros))
        announcer_init(self, *args, **kwargs)

    store.FaustTables.drain_changelog = drained  # type: ignore[method-assign]
    wire.RoutingSerializer.__call__ = serialized  # type: ignore[method-assign]
    announcements.Announcer.__init__ = announcer  # type: ignore[method-assign]
    try:
        yield found
    finally:
        store.FaustTables.drain_changelog = drain  # type: ignore[method-assign]
        wire.RoutingSerializer.__call__ = serialize  # type: ignore[method-assign]
        announcements.Announcer.__init__ = announcer_init  # type: ignore[method-assign]
        time.time = clock


def _plain_node(plain_customer: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A node value's plain form (``[tag, field, ...]``, msgpack): a compressed customer decompressed, a packed
    identifier (``graph/identifier_codec.py``, or ``state.OWNED_IDENTIFIER_V1`` on a tree before it) decoded and
    written plain, any other value as it is."""
    from processors.identity.graph import state

    codec = state if hasattr(state, "OWNED_IDENTIFIER_V1") else importlib.import_module(
        "processors.identity.graph.identifier_codec")
    first = codec.OWNED_IDENTIFIER_V1
    packed = {*range(first, 0x100), *getattr(codec, "V2_BANDS", (getattr(codec, "OWNED_IDENTIFIER_V2", first),))}
    encoder = msgspec.msgpack.Encoder()

    def plain(data: bytes) -> bytes:
        data = plain_customer(data)
        if not data or data[0] not in packed:
            return data
        node = state.decode_state(data)
        values, defaults = msgspec.structs.astuple(node), msgspec.structs.astuple(type(node)())
        end = len(values)
        while end and values[end - 1] == defaults[end - 1]:
            end -= 1
        return encoder.encode((node.__struct_config__.tag, *values[:end]))

    return plain


def digest(events: int, warm: int, batch: int = 500, contacts_store: str = "memory") -> dict[str, Any]:
    """The two digests (hex) and record counts of one ``identity_hotpath.run`` (``contacts_store``: its option)."""
    from tests.bench import identity_hotpath

    with digesting() as found:
        identity_hotpath.run(events, warm, batch, contacts_store=contacts_store)
    return {**found, **{name: found[name].hexdigest() for name in ("changelog", "outputs", "tables")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--contacts-store", choices=("memory", "rocksdb"), default="memory")
    args = parser.parse_args()
    result = digest(args.events, args.warm, args.batch, args.contacts_store)
    print(f"changelog {result['changelog']} ({result['changelog_records']} records), outputs {result['outputs']} "
          f"({result['output_records']} records), tables {result['tables']} ({result['table_keys']} keys)")


if __name__ == "__main__":
    main()
