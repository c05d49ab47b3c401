"""A full snapshot that drops the old holder's line and lists the new subscriber of the same number, in one file.

A Polish mobile operator's nightly subscriber master (``snapshot: true``, no ``occurred_at``: every line and every
closure is stamped with the file's time). Night 4 lists Anna's two lines (PL-200001 with 603 300 301, PL-200002 with
603 300 302, one PESEL); night 5 no longer lists PL-200001 and lists Marek's new line PL-300001 with 603 300 301 (the
night before had a rejected line, which closes nothing, so the closure comes with the re-assignment). Identity's rule
(``graph/recycle.py``, ``_new_after``): the closure and the new line of one export share one instant, so the new line
gives the number "at the closure's instant" and takes it. It did not when the file's modification time lay ahead of
the importer's clock (a night exported, or copied with its time kept, by a host whose clock runs ahead; the sample's
files were stamped with the coming night): each record's time was moved back to *its own* mapping instant
(``adapters.base.clock.future_skew`` per record), so Marek's line, mapped before the closures, came microseconds
before the closure, his account "held the number alongside" and took nothing, for good (later nights are duplicates).
The import now moves the file's time back once per file (``adapters.legacy.ingress_batch``): every record of the file
keeps one instant.

Checked through the importer itself (``BatchImporter`` with an in-process publisher), every arrival order of the
night's parts on 1 partition and shuffled on 3; the same export with a file time in the past; and the kind's other
member, a changed line and another account's new line of one export (``test_master_line_recycle``'s one-export case)
with the new line written first.
"""

from __future__ import annotations

import itertools
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import LegacyContext
from bus.identifiers.settings import IdentifierSettings
from processors.identity.graph.state import IdentifierState
from tests.adapters.legacy.test_ingress_batch import _Publisher
from tests.processors.identity.graph.test_master_line_recycle import Items, call
from tests.processors.identity.graph.test_number_recycling import placed
from tests.processors.identity.graph.test_number_recycling import run as recycling_run
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import HMAC_KEY, Harness, matcher_settings

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

OBSERVED, BUSINESS = "identity.observed.v1", "business.events.v1"
IDENTIFIERS = IdentifierSettings(default_region="PL", national_id_schemes=("pl.pesel",), hmac_key=HMAC_KEY)
SUBSCRIBERS = {  # the tester's subs_layout.yaml (docs/legacy-batch.md's full-snapshot example)
    "name": "abonenci", "format": "csv", "delimiter": ";", "event": "AccountOpened", "key": ["account_number"],
    "snapshot": True,
    "fields": {"account_number": {"column": "KONTO"}, "account_type": {"value": "mobile"},
               "mobile": {"column": "MSISDN"}, "email": {"column": "EMAIL"}, "national_id": {"column": "PESEL"},
               "full_name": {"column": "NAZWA"}},
}
HEADER = "KONTO;MSISDN;EMAIL;PESEL;NAZWA"
ANNA_1, ANNA_2 = "PL-200001;603300301;;81010200141;Anna Wisniewska", "PL-200002;603300302;;81010200141;Anna Wisniewska"
MAREK = "PL-300001;603300301;;66071218762;Marek Lewandowski"
RECYCLED = ("PHONE", "+48603300301")
AHEAD, BEHIND = timedelta(hours=10), timedelta(days=-1)  # the night's file time against the importer's clock


def importer(tmp_path: Path, publisher: _Publisher) -> BatchImporter:
    ctx = LegacyContext("billing-pl", BUSINESS, identity_topic=OBSERVED, phone_region="PL", identifiers=IDENTIFIERS)
    return BatchImporter(ctx, publisher, tmp_path / "state")  # type: ignore[arg-type]


def night(tmp_path: Path, name: str, at: datetime, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    os.utime(path, (at.timestamp(), at.timestamp()))
    return path


async def nights(tmp_path: Path, night5: timedelta, *rows5: str) -> dict[str, Items]:
    """What ``import-batch`` publishes for night 4 (a day before night 5) and night 5 (its file time ``night5`` from
    now, lines ``rows5``), split into night 4, night 5's lines, night 5's closures; and a call from the number once
    night 5 was imported."""
    publisher, layout = _Publisher(), Layout.model_validate(SUBSCRIBERS)
    load = importer(tmp_path, publisher)
    at = datetime.now(UTC) + night5
    await load.import_file(night(tmp_path, "night4.csv", at - timedelta(days=1), ANNA_1, ANNA_2), layout)
    four = len(publisher.events)
    report = await load.import_file(night(tmp_path, "night5.csv", at, *rows5), layout)
    assert report.gone.closed == 1
    five = [(out.event, out.topic) for out in publisher.events[four:]]
    closes = [item for item in five if item[0].schema.endswith("AccountClosed")]
    ctr = call(RECYCLED, "c-marek-0001", max(at, datetime.now(UTC)) + timedelta(minutes=1))
    return {"night4": [(out.event, out.topic) for out in publisher.events[:four]],
            "lines": [item for item in five if item not in closes], "closures": closes, "call": ctr}


def run(items: Items, *, partitions: int = 1, seed: int | None = None) -> Harness:
    """``test_number_recycling.run`` with the Polish national-ID scheme."""
    return recycling_run(items, partitions=partitions, seed=seed, config=matcher_settings(default_region="PL"))


def account_holder(h: Harness, account: str) -> str:
    return root(h, h.customer("ACCOUNT", account) or "")


def owner(h: Harness) -> str:
    node = h.local.store.nodes.get(h.key(*RECYCLED))
    assert isinstance(node, IdentifierState)
    return root(h, node.owner or "")


def check(h: Harness, parts: dict[str, Items], context: object) -> None:
    """The number Marek's, his call his; Anna keeps her other line and her closed account."""
    marek, anna = account_holder(h, "PL-300001"), account_holder(h, "PL-200001")
    assert marek and anna and marek != anna, context
    assert account_holder(h, "PL-200002") == anna, context
    assert owner(h) == marek, context
    assert placed(h, parts["call"]) == {marek}, context


PARTS = ("night4", "lines", "closures", "call")


@pytest.mark.parametrize("night5", [AHEAD, BEHIND], ids=["file-time-ahead", "file-time-behind"])
async def test_the_closure_and_the_new_line_of_one_snapshot_give_the_number_to_the_new_line(
        tmp_path: Path, night5: timedelta) -> None:
    """The sample (F2): every arrival order of the night's parts, each settled."""
    parts = await nights(tmp_path, night5, ANNA_2, MAREK)
    for order in itertools.permutations(PARTS):
        check(run([item for name in order for item in parts[name]]), parts, order)


async def test_shuffled_on_three_partitions(tmp_path: Path) -> None:
    """The running processor's way: the parts interleaved on 3 partitions, with at-least-once copies."""
    parts = await nights(tmp_path, AHEAD, MAREK, ANNA_2)
    for seed, order in enumerate(itertools.permutations(PARTS)):
        check(run([item for name in order for item in parts[name]], partitions=3, seed=seed), parts, (order, seed))


async def test_one_instant_for_every_record_of_a_file_ahead_of_the_clock(tmp_path: Path) -> None:
    """What the identity rule relies on: the file's lines and its closures carry one ``occurred_at``."""
    parts = await nights(tmp_path, AHEAD, MAREK, ANNA_2)
    stamps = {event.value["envelope"]["occurred_at"] for name in ("lines", "closures") for event, _ in parts[name]}
    assert len(stamps) == 1


EXPORT = {**SUBSCRIBERS, "snapshot": False, "name": "abonenci-zmiany"}


async def test_a_changed_line_and_a_new_line_of_one_export_ahead_of_the_clock(tmp_path: Path) -> None:
    """The kind's other member: a delta export's night 5 carries Marek's new line first, then Anna's changed line
    (PL-200001 now with 603 300 309): the change and the new line share the file's instant, so the number is
    Marek's, in every arrival order."""
    publisher, layout = _Publisher(), Layout.model_validate(EXPORT)
    load = importer(tmp_path, publisher)
    at = datetime.now(UTC) + AHEAD
    await load.import_file(night(tmp_path, "n4.csv", at - timedelta(days=1), ANNA_1, ANNA_2), layout)
    four = len(publisher.events)
    await load.import_file(night(tmp_path, "n5.csv", at, MAREK, ANNA_1.replace("603300301", "603300309"), ANNA_2),
                           layout)
    parts: dict[str, Any] = {"night4": [(out.event, out.topic) for out in publisher.events[:four]],
                             "night5": [(out.event, out.topic) for out in publisher.events[four:]]}
    parts["call"] = call(RECYCLED, "c-marek-0001", at + timedelta(minutes=1))
    for order in itertools.permutations(parts):
        h = run([item for name in order for item in parts[name]])
        assert owner(h) == account_holder(h, "PL-300001"), order
    assert time.time() < at.timestamp()  # the file time stayed ahead of the clock throughout
