"""State growth over a long run: the offer processor's waiting tables and the handoff tracker's directory maps.

    .venv/bin/python -m tests.bench.state_growth --days 365 --contacts 200 --lost 20

In-process, no broker, synthetic event time (one day after another; the wall clock plays no part):

1. Offers (``OfferEngine`` on dict tables): every day ``--contacts`` answerable contacts identity places, each
   with an offer answer, and ``--lost`` answers identity never places (half with a contact never placed, half
   naming an identifier it never announces). Entries of ``pending`` and of the directory's ``PLACED:`` keys at
   the end, and the dead letters written. Baseline (same run): a retention longer than the run, what the
   processor kept before it had one.
2. Handoffs (``CustomerDirectory``): every day ``--contacts`` handoffs placed, each opened during a contact,
   one in ten of those contacts moved. Entries of the placement maps and their memory (tracemalloc) at the end.
   Baseline (same run): no retention.
3. Handoff table (``HandoffTracker`` on a dict): for ``--handoff-days`` days, ``--handoffs`` a day created, resolved
   an hour later and closed the next day. Rows at the end (whole states / tombstones) and their JSON size (what the
   changelog and a restore carry). Baseline: no retention (every state ever).
4. KPI windows (stage two, ``Rollup`` with ``WindowsKept``): every day the hourly and daily windows of 4 channels x
   3 sites, one partial each carrying stage one's clock. Windows at the end and their JSON size. Baseline: no
   retention.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.clock import ManualClock
from bus.config import TopicSettings
from bus.serde import Event
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.placements import Placement, Placements
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.outputs import CREATED
from processors.handoffs.outputs import Emitter as HandoffEmitter
from processors.handoffs.retention import Retention, is_tombstone
from processors.handoffs.tracker import Destinations, HandoffTracker
from processors.kpis.config import KpisSettings
from processors.kpis.retention import WindowsKept
from processors.kpis.rollup import Rollup
from processors.kpis.windows import DAY_US, HOUR_US, Granularity, WindowKey, to_micros
from processors.offers.answers import RESPONDED
from processors.offers.campaigns import defined
from processors.offers.config import OffersSettings
from processors.offers.engine import OfferEngine
from processors.offers.outputs import Batch, Emitter
from processors.offers.retention import CLOCK_KEY
from processors.offers.store import Stores
from tests.bench.output import add_output, write
from tests.processors.handoffs import factories as handoff_events
from tests.processors.offers.factories import T0, envelope, ident, offer

YEARS = 100 * 365 * 86400  # a retention longer than any run: what the processors kept before


def offers_run(days: int, contacts: int, lost: int, retention_s: float) -> dict[str, Any]:
    now = [T0]
    settings = OffersSettings(retention_s=retention_s)
    engine = OfferEngine(settings, Emitter(TopicSettings(), "bench", lambda: now[0]), lambda: now[0])
    tables: list[dict[str, Any]] = [{}, {}, {}, {}]
    dead, n = 0, 0

    def feed(event: Event, key: str | None = None, from_contacts: bool = False) -> None:
        nonlocal dead
        stores, batch = Stores(*tables), Batch()
        engine.handle(stores, event, key, batch, from_contacts=from_contacts, origin=["bench", 0, n, None])
        stores.commit()
        dead += len(batch.expired)

    feed(defined(offer("fibre", channels=["WEB"]), T0))
    started = time.perf_counter()
    for day in range(days):
        for i in range(contacts + lost):
            n += 1
            now[0] = T0 + timedelta(days=day, seconds=i)
            customer, phone = f"cus_{n % 5000}", f"PHONE:+3360{n % 5000:07d}"
            if n <= 5000:
                feed(Event("omnibus.identity.CustomerCreated", {
                    "envelope": envelope(f"id-{n}", now[0]), "customer_id": customer, "identifiers": [ident(phone)]}))
            contact_id, answer_id = f"c-{n}", f"a-{n}"
            correlation = answer_id if i >= contacts + lost // 2 else contact_id  # the last half: no contact
            keys = [phone] if i < contacts + lost // 2 else [f"EMAIL:never{n}@x.org"]
            answer = Event(RESPONDED, {
                "envelope": {**envelope(answer_id, now[0]), "correlation_id": correlation}, "offer_id": "fibre",
                "offer_version": 1, "channel": "WEB", "customer_identifiers": [ident(k) for k in keys],
                "agent_id": None, "presentation_id": None, "response": "NOT_NOW"})
            feed(answer)
            if i < contacts:  # identity places the contact (the lost ones: never)
                feed(Event("omnibus.contact.InteractionRecorded", {
                    "envelope": {**envelope(contact_id, now[0]), "correlation_id": contact_id},
                    "interaction_id": contact_id, "customer_identifiers": [ident(phone)], "kind": "WEB_EVENT",
                    "name": "offer", "outcome": None, "agent_id": None, "duration_ms": None, "properties": {}}),
                    customer, from_contacts=True)
    seconds = time.perf_counter() - started
    pending = {k: v for k, v in tables[3].items() if k != CLOCK_KEY}
    return {"pending_keys": len(pending), "pending_events": sum(len(v) for v in pending.values()),
            "placements": sum(1 for k in tables[1] if k.startswith("PLACED:")), "dead_letters": dead,
            "us_per_event": seconds / max(1, n) * 1e6}


def handoffs_run(days: int, contacts: int, retention_ms: int | None) -> dict[str, Any]:
    directory = CustomerDirectory(ready=True, placements=Placements(retention_ms=retention_ms))
    tracemalloc.start()
    n = 0
    start_ms = int(T0.timestamp() * 1000)
    for day in range(days):
        for i in range(contacts):
            n += 1
            at_ms = start_ms + day * 86_400_000 + i * 1000
            value = {"envelope": {"event_id": f"e-{n}"}, "handoff_id": f"h-{n}", "origin_interaction_id": f"c-{n}"}
            directory.read(f"cus_{n % 5000}".encode(), Event(CREATED, value), [], at_ms)
            if n % 10 == 0:
                directory.move_contact(f"c-{n}", Placement(f"cus_{(n + 1) % 5000}", f"m-{n}", True, at_ms + 1))
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    d = directory.placements
    return {"placed": len(d._placed), "origin": len(d._origin), "opened": len(d._opened),  # noqa: SLF001
            "contact_moved": len(d._contact_moved), "bytes": size}  # noqa: SLF001


class _Nowhere:
    async def publish_many(self, items: Any) -> list:
        return []

    async def write(self, *_: Any, **__: Any) -> None:
        return None


def handoff_table_run(days: int, per_day: int, retention: Retention | None) -> dict[str, Any]:
    nowhere = _Nowhere()
    store: dict[str, Any] = {}
    tracker = HandoffTracker(HandoffPolicy(), HandoffEmitter("omnibus-handoffs", ManualClock(T0)), store, nowhere,
                             nowhere, Destinations("events", "notifications"), retention=retention)
    record = handoff_events.record()
    hour = timedelta(hours=1)

    async def feed() -> None:
        for day in range(days):
            for i in range(per_day):
                at, handoff_id = T0 + timedelta(days=day, seconds=i), f"h-{day}-{i}"
                for event in (handoff_events.created(handoff_id, at), handoff_events.resolved(handoff_id, at + hour),
                              handoff_events.closed(handoff_id, at + 24 * hour)):
                    await tracker.handle(event, record)

    started = time.perf_counter()
    asyncio.run(feed())
    seconds = time.perf_counter() - started
    tombstones = sum(1 for row in store.values() if is_tombstone(row))
    return {"states": len(store) - tombstones, "tombstones": tombstones,
            "bytes": len(json.dumps(store, separators=(",", ":"))), "us_per_event": seconds / (days * per_day * 3) * 1e6}


CHANNELS, SITES = ("CALL_CENTER", "WEB", "BRANCH", "BACK_OFFICE"), ("paris", "lyon", "lille")


def kpi_windows_run(days: int, kept_us: int | None) -> dict[str, Any]:
    rollup = Rollup({}, "omnibus-kpis", lambda: T0)
    kept = WindowsKept(kept_us) if kept_us is not None else None
    start = to_micros(T0) - to_micros(T0) % DAY_US
    seq = 0
    for day in range(days):
        day_us = start + day * DAY_US
        keys = [WindowKey(Granularity.DAY, day_us, c, s).text() for c in CHANNELS for s in SITES]
        keys += [WindowKey(Granularity.HOUR, day_us + h * HOUR_US, c, s).text()
                 for h in range(24) for c in CHANNELS for s in SITES]
        for key in keys:
            seq += 1
            partial = {"p": 0, "seq": seq, "counts": {"contacts": 3, "interactions": 4}, "through": day_us + DAY_US}
            if kept is not None and kept.expired(rollup.store, key, partial, 0, lambda k: True):
                continue
            if (rolled := rollup.receive(key, partial)) is not None:
                rollup.save(key, rolled)
    return {"windows": len(rollup.store), "bytes": len(json.dumps(rollup.store, separators=(",", ":")))}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--contacts", type=int, default=200, help="answerable contacts (and handoffs) per day")
    parser.add_argument("--lost", type=int, default=20, help="offer answers per day identity never places")
    parser.add_argument("--handoff-days", type=int, default=730, help="days of the handoff table run")
    parser.add_argument("--handoffs", type=int, default=20, help="handoffs created (and closed) per day")
    add_output(parser)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> str:
    offers_default = OffersSettings().retention_s
    bounded, unbounded = (offers_run(args.days, args.contacts, args.lost, r) for r in (offers_default, YEARS))
    handoffs_default = 7 * 86_400_000
    kept, grown = handoffs_run(args.days, args.contacts, handoffs_default), handoffs_run(args.days, args.contacts,
                                                                                          None)
    table, table_all = (handoff_table_run(args.handoff_days, args.handoffs, r) for r in (Retention(), None))
    windows, windows_all = (kpi_windows_run(args.days, k) for k in (KpisSettings().windows_kept_us, None))
    load = os.getloadavg()
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run: `.venv/bin/python -m tests.bench.state_growth --days {args.days} --contacts {args.contacts} "
        f"--lost {args.lost} --handoff-days {args.handoff_days} --handoffs {args.handoffs}` on {at}; Python {platform.python_version()}, load average {load[0]:.2f}. "
        "In process, synthetic event time.", "",
        "| measure | with retention | baseline: none (before) |", "|---|---:|---:|",
        f"| offers `pending` keys / events | {bounded['pending_keys']:,} / {bounded['pending_events']:,} | "
        f"{unbounded['pending_keys']:,} / {unbounded['pending_events']:,} |",
        f"| offers directory `PLACED:` keys | {bounded['placements']:,} | {unbounded['placements']:,} |",
        f"| offers dead letters (`WaitedForIdentity`) | {bounded['dead_letters']:,} | {unbounded['dead_letters']:,} |",
        f"| offers engine time per event | {bounded['us_per_event']:.0f} µs | {unbounded['us_per_event']:.0f} µs |",
        f"| handoffs directory placements / origins / opened / moves | {kept['placed']:,} / {kept['origin']:,} / "
        f"{kept['opened']:,} / {kept['contact_moved']:,} | {grown['placed']:,} / {grown['origin']:,} / "
        f"{grown['opened']:,} / {grown['contact_moved']:,} |",
        f"| handoffs directory memory (tracemalloc) | {kept['bytes'] / 1e6:.1f} MB | {grown['bytes'] / 1e6:.1f} MB |",
        f"| handoff table after {args.handoff_days} days: whole states / tombstones | {table['states']:,} / "
        f"{table['tombstones']:,} | {table_all['states']:,} / {table_all['tombstones']:,} |",
        f"| handoff table JSON size | {table['bytes'] / 1e6:.1f} MB | {table_all['bytes'] / 1e6:.1f} MB |",
        f"| handoff tracker time per record | {table['us_per_event']:.0f} µs | {table_all['us_per_event']:.0f} µs |",
        f"| KPI rollup windows | {windows['windows']:,} | {windows_all['windows']:,} |",
        f"| KPI rollup windows JSON size | {windows['bytes'] / 1e6:.1f} MB | {windows_all['bytes'] / 1e6:.1f} MB |",
        "",
    ]
    return write("\n".join(lines), args.output)


def main() -> None:
    print(run(parse()))


if __name__ == "__main__":
    main()
