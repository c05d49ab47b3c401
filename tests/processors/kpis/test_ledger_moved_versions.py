"""A contact moved to a customer that then absorbs the customer it left counts once there, in every reading order.

Identity moves a corrected counter transaction (or one of two terminals' equal ids before the scoped-ids cut-over)
to the customer of its first upload (``ContactMoved`` rule ``corrected-version``: the moved copy under that customer,
the version's event id as ``causation_id``, header ``omnibus-moved-from``), then merges the customer the correction
made into it (``CustomerMerged``). The customer the copy left releases the contact; its merge must not take the
contact off the customer it moved to (docs/kpis.md: "count the contact once" -- once, not zero). The KPI worker reads
each customer's partition and ``kpi.merges.v1`` in its own order: every interleaving is tried.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.serde import Event
from bus.topics import MOVED_FROM_HEADER
from processors.kpis.config import KpisSettings
from processors.kpis.ledger import Source, decode_move, encode_move, move_of
from processors.kpis.rebuild import rebuild
from processors.kpis.rollup import decode_partial, encode_partial
from processors.kpis.state import CustomerHistory, from_dict
from processors.kpis.windows import to_micros
from processors.replay import Replayed
from tests.processors.kpis.test_ledger import Pipeline, merged, moved
from tests.support.contact_versions import CALL_END, counter_version

CONTACT_MEASURES = ("interactions", "contacts", "identified_contacts", "repeat_contacts_7d", "fcr_eligible",
                    "fcr_resolved")
ONE_CONTACT = {"interactions": 1, "contacts": 1, "identified_contacts": 1, "repeat_contacts_7d": 0,
               "fcr_eligible": 1, "fcr_resolved": 1}
PARTITIONS = {"cus_a": 0, "cus_b": 1, "cus_c": 2, "cus_x": 3}  # each customer's partition of customer.contacts.v1


@dataclass(frozen=True)
class Read:
    """One record of ``customer.contacts.v1``: ``event`` keyed by customer ``key``, ``moved_from`` its header."""

    event: Event
    key: str
    moved_from: str | None = None


class QueuedPipeline(Pipeline):
    """The ledger and rollup with ``kpi.merges.v1`` as a queue per customer, read whenever the schedule says."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: dict[str, list[dict[str, Any]]] = {}

    def _run(self, change: Any) -> int:
        for key, partial in change.partials():
            rolled = self.rollup.receive(key, decode_partial(encode_partial(partial)))
            if rolled is not None:
                self.rollup.save(key, rolled)
        self.ledger.commit(change)
        for customer, move in change.moves:  # published after the commit, read later
            self.queued.setdefault(customer, []).append(decode_move(encode_move(move)))
        return 0

    def read(self, record: Read) -> None:
        self.feed(record.event, "customer-contacts", PARTITIONS[record.key], record.key, record.moved_from)

    def read_move(self, customer: str) -> None:
        self._run(self.ledger.move(customer, self.queued[customer].pop(0), PARTITIONS[customer]))


def _schedules(pipeline: QueuedPipeline, streams: tuple[tuple[Read, ...], ...]) -> Iterator[QueuedPipeline]:
    """The pipeline after every interleaving of ``streams`` (each in its own order) and of the moves they cause."""
    choices: list[tuple[str, Any]] = [("read", index) for index, stream in enumerate(streams) if stream]
    choices += [("move", customer) for customer, moves in sorted(pipeline.queued.items()) if moves]
    if not choices:
        yield pipeline
        return
    for kind, what in choices:
        branch = copy.deepcopy(pipeline)
        rest = streams
        if kind == "read":
            branch.read(streams[what][0])
            rest = tuple(stream[1:] if index == what else stream for index, stream in enumerate(streams))
        else:
            branch.read_move(what)
        yield from _schedules(branch, rest)


def _day(pipeline: Pipeline, at: datetime = CALL_END) -> dict[str, int]:
    day = pipeline.day("BRANCH", "B-0001", at)
    return {measure: day.get(measure, 0) for measure in CONTACT_MEASURES}


def _every_order(adapter: tuple[Event, ...], *streams: tuple[Read, ...]) -> list[dict[str, int]]:
    """The day's contact counts after each reading order: ``adapter`` read first from ``contact.events.v1``."""
    start = QueuedPipeline()
    for event in adapter:
        start.feed(event, "contacts", partition=4)
    return [_day(done) for done in _schedules(start, streams)]


FIRST = counter_version("T-500", "g1", CALL_END, phone="+33612340011")
CORRECTED = counter_version("T-500", "g2", CALL_END + timedelta(minutes=10), phone="+33612340012")
MERGED_B = merged("cus_a", "cus_b", CALL_END + timedelta(minutes=11))


def _moved_copy(version: Event, move_id: str = "move-1") -> Event:
    """``version`` as identity re-publishes it under the customer it moves to: its own id as ``causation_id``."""
    return moved(version, move_id)


def _other_terminal(transaction_id: str, upload: str, occurred: datetime, phone: str) -> Event:
    """A second terminal's transaction with the same bare id before ``SCOPED_IDS_FROM``: one contact to identity."""
    event = counter_version(transaction_id, upload, occurred, phone=phone)
    event.value["properties"] = {"terminal_id": "CT-0001-02"}
    return event


def test_a_corrected_transaction_moved_to_its_first_customer_which_absorbs_the_other_counts_once() -> None:
    """The reported sample, in identity's order and read in it: v1 on A, v2 on B, v2's moved copy on A, B into A."""
    pipeline = Pipeline()
    for event in (FIRST, CORRECTED):
        pipeline.feed(event, "contacts", partition=3)
    pipeline.feed(FIRST, "customer-contacts", 0, "cus_a")
    pipeline.feed(CORRECTED, "customer-contacts", 1, "cus_b")
    pipeline.feed(_moved_copy(CORRECTED), "customer-contacts", 0, "cus_a", moved_from="cus_b")
    pipeline.feed(MERGED_B, "customer-contacts", 1, "cus_b")
    assert _day(pipeline) == ONE_CONTACT


@pytest.mark.parametrize("first, corrected", [
    (FIRST, CORRECTED),
    (counter_version("T-100", "t1", CALL_END, phone="+33612340021"),
     _other_terminal("T-100", "t2", CALL_END + timedelta(minutes=3), "+33612340022")),
], ids=["corrected-upload", "two-terminals-before-cut-over"])
def test_a_moved_version_then_a_merge_counts_once_in_every_reading_order(first: Event, corrected: Event) -> None:
    results = _every_order((first, corrected),
                           (Read(first, "cus_a"), Read(_moved_copy(corrected), "cus_a", "cus_b")),
                           (Read(corrected, "cus_b"), Read(MERGED_B, "cus_b")))
    assert len(results) >= 6  # the two partitions' records interleaved, and the moves between them
    assert [day for day in results if day != ONE_CONTACT] == []


def test_an_operator_s_move_then_a_merge_into_the_customer_it_moved_to_counts_once() -> None:
    """``identity move-contact`` from B to A, then ``identity merge``: the contact is A's, counted once there."""
    visit = counter_version("T-600", "g6", CALL_END, phone="+33612340031")
    results = _every_order((visit,), (Read(_moved_copy(visit, "op-move"), "cus_a", "cus_b"),),
                           (Read(visit, "cus_b"), Read(MERGED_B, "cus_b")))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_a_moved_version_whose_first_version_stays_counts_once_without_a_merge() -> None:
    """The customer the correction made keeps other identifiers and stays: the visit is A's alone."""
    results = _every_order((FIRST, CORRECTED),
                           (Read(FIRST, "cus_a"), Read(_moved_copy(CORRECTED), "cus_a", "cus_b")),
                           (Read(CORRECTED, "cus_b"),))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_an_earlier_version_moved_to_the_later_one_s_customer_which_absorbs_its_own_counts_once() -> None:
    """The other direction (rule ``latest-version``): v1 moves from A to B, and A merges into B."""
    merged_a = merged("cus_b", "cus_a", CALL_END + timedelta(minutes=11))
    results = _every_order((FIRST, CORRECTED),
                           (Read(FIRST, "cus_a"), Read(merged_a, "cus_a")),
                           (Read(CORRECTED, "cus_b"), Read(_moved_copy(FIRST), "cus_b", "cus_a")))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_a_contact_moved_on_after_the_merge_is_taken_off_the_survivor() -> None:
    """The release still works where it should: the visit moved to A, B merged into A, then an operator moves the
    whole contact (both versions' copies) to C: counted once, under C."""
    to_c = (Read(_moved_copy(FIRST, "op-move"), "cus_c", "cus_a"), Read(_moved_copy(CORRECTED, "op-move"), "cus_c",
                                                                          "cus_a"))
    results = _every_order((FIRST, CORRECTED),
                           (Read(FIRST, "cus_a"), Read(_moved_copy(CORRECTED), "cus_a", "cus_b")),
                           (Read(CORRECTED, "cus_b"), Read(MERGED_B, "cus_b")), to_c)
    assert [day for day in results if day != ONE_CONTACT] == []


def test_replay_counts_the_moved_version_once() -> None:
    """``omnibus replay kpis`` reads the same records back from the topics: the same count."""
    contacts, adapter = "omnibus.customer.contacts.v1", "omnibus.contact.events.v1"
    moved_from = ((MOVED_FROM_HEADER, b"cus_b"),)
    records = [Replayed(adapter, 0, 0, None, FIRST), Replayed(adapter, 0, 1, None, CORRECTED),
               Replayed(contacts, 0, 0, b"cus_a", FIRST),
               Replayed(contacts, 0, 1, b"cus_a", _moved_copy(CORRECTED), headers=moved_from),
               Replayed(contacts, 1, 0, b"cus_b", CORRECTED), Replayed(contacts, 1, 1, b"cus_b", MERGED_B)]
    sources: dict[str, Source] = {contacts: "customer-contacts", adapter: "contacts"}
    windows = rebuild(records, sources, KpisSettings(), to_micros(CALL_END + timedelta(days=1))).windows
    start = to_micros(CALL_END) - to_micros(CALL_END) % (24 * 3600 * 10**6)
    day = windows[f"DAY|{start}|BRANCH|B-0001"]
    assert {measure: day.get(measure, 0) for measure in CONTACT_MEASURES} == ONE_CONTACT


def test_a_moved_version_whose_customer_then_merges_on_counts_once_under_the_last_survivor() -> None:
    """After the move and B's merge into A, A merges into X: a release naming A, read at A after A's merge (forwarded
    from B), is A's own and is not handed on to X."""
    merged_a = merged("cus_c", "cus_a", CALL_END + timedelta(minutes=12))
    results = _every_order((FIRST, CORRECTED),
                           (Read(FIRST, "cus_a"), Read(_moved_copy(CORRECTED), "cus_a", "cus_b"),
                            Read(merged_a, "cus_a")),
                           (Read(CORRECTED, "cus_b"), Read(MERGED_B, "cus_b")))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_a_moved_version_counts_once_when_both_customers_merge_into_a_third() -> None:
    """After the move, A merges into X, and identity merges B straight into X: B's release names A, which X absorbed
    (whichever of the two hand-overs X reads first)."""
    into_x = CALL_END + timedelta(minutes=12)
    results = _every_order((FIRST, CORRECTED),
                           (Read(FIRST, "cus_a"), Read(_moved_copy(CORRECTED), "cus_a", "cus_b"),
                            Read(merged("cus_x", "cus_a", into_x), "cus_a")),
                           (Read(CORRECTED, "cus_b"), Read(merged("cus_x", "cus_b", into_x), "cus_b")))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_a_split_contact_counts_once_when_its_new_and_old_customer_merge_into_a_third() -> None:
    """An operator's split moved the visit from B to C; later C and B both merge into A: B's release names C."""
    visit = counter_version("T-700", "g7", CALL_END, phone="+33612340041")
    into_a = CALL_END + timedelta(minutes=12)
    results = _every_order((visit,),
                           (Read(visit, "cus_b"), Read(merged("cus_a", "cus_b", into_a), "cus_b")),
                           (Read(_moved_copy(visit, "split-1"), "cus_c", "cus_b"),
                            Read(merged("cus_a", "cus_c", into_a), "cus_c")))
    assert [day for day in results if day != ONE_CONTACT] == []


def test_a_release_kept_before_it_named_a_customer_still_decodes_and_still_applies() -> None:
    """State and ``kpi.merges.v1`` records written before releases named the customer the contact moved to."""
    old = {"kind": "customer", "contributions": {}, "partition": 0, "contacts": [], "merged_into": None,
           "released": [["T-500/g2", 5]]}
    history = from_dict(old)
    assert isinstance(history, CustomerHistory) and history.released == (("T-500/g2", 5, ""),)
    assert history.absorbed == ()
    assert decode_move(b'{"from":"cus_a","contacts":[],"released":[["T-500/g2",5]]}')["released"] == [
        ["T-500/g2", 5, ""]]


def test_a_hand_over_naming_the_customers_it_brings_round_trips_and_a_bad_one_is_refused() -> None:
    move = move_of("cus_b", (), (("T-500/g2", 5, "cus_a"),), ("cus_b", "cus_d"))
    assert decode_move(encode_move(move)) == move
    with pytest.raises(ValueError, match="not a KPI merge move"):
        decode_move(b'{"from":"cus_b","contacts":[],"absorbed":[7]}')
