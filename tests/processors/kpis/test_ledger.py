"""Windowing, late events, redeliveries and the clock, through the ledger and the rollup together."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from bus.serde import Event
from processors.kpis.config import KpisSettings
from processors.kpis.ledger import KpiLedger, decode_move, encode_move, move_of
from processors.kpis.rollup import Rollup, decode_partial, encode_partial
from processors.kpis.windows import to_micros
from tests.adapters.call_center.test_mapper_ctr import published_versions
from tests.processors.kpis.factories import T0, D, H, M, call, envelope, handoff, interaction

SETTINGS = KpisSettings()


class Pipeline:
    """Stage one over two partitions and stage two, in dicts: what the worker does, without Kafka."""

    def __init__(self) -> None:
        self.ledger = KpiLedger(SETTINGS, {})
        self.rollup = Rollup({}, "omnibus-kpis", lambda: datetime.now(UTC))
        self.published: list = []

    def feed(self, event, source="contacts", partition=0, key=None, moved_from=None) -> int:
        return self._run(self.ledger.apply(event, source, partition, key, moved_from))

    def tick(self, partition: int, at: datetime) -> int:
        return self._run(self.ledger.tick(partition, to_micros(at)))

    def _run(self, change) -> int:
        published = 0
        for key, partial in change.partials():
            rolled = self.rollup.receive(key, decode_partial(encode_partial(partial)))
            if rolled is not None:
                if rolled.aggregate is not None:
                    self.published.append(rolled.aggregate)
                    published += 1
                self.rollup.save(key, rolled)
        self.ledger.commit(change)
        for survivor, move in change.moves:  # through kpi.merges.v1 in the worker: after the commit
            published += self._run(self.ledger.move(survivor, decode_move(encode_move(move)), change.partition))
        return published

    def day(self, channel="CALL_CENTER", site="paris", at=T0) -> dict[str, int]:
        start = to_micros(at) - to_micros(at) % (24 * 3600 * 10**6)
        return self.rollup.current().get(f"DAY|{start}|{channel}|{site}", {})


def test_partitions_are_summed_and_a_redelivered_event_publishes_nothing():
    pipeline = Pipeline()
    assert pipeline.feed(interaction(T0, event_id="a"), partition=0) == 2  # its hour and its day
    assert pipeline.feed(interaction(T0 + M, event_id="b"), partition=1) == 2
    assert pipeline.feed(interaction(T0, event_id="a"), partition=0) == 0
    assert pipeline.day() == {"contacts": 2, "interactions": 2}
    assert [a.value["revision"] for a in pipeline.published if a.value["granularity"] == "DAY"] == [1, 2]


def test_a_late_event_updates_and_republishes_its_own_window_only():
    pipeline = Pipeline()
    pipeline.feed(interaction(T0, event_id="a"))
    pipeline.tick(0, T0 + 2 * D)
    before = len(pipeline.published)
    assert pipeline.feed(interaction(T0 + 5 * M, event_id="late")) == 2
    republished = pipeline.published[before:]
    assert {a.value["window_start"] for a in republished} == {T0, T0.replace(hour=0)}
    assert all(a.value["contacts"] == 2 and a.value["revision"] == 2 for a in republished)


def test_events_older_than_the_horizon_are_not_counted_and_old_state_is_forgotten():
    pipeline = Pipeline()
    pipeline.feed(interaction(T0, event_id="a"))
    pipeline.tick(0, T0 + 20 * D)
    assert pipeline.feed(interaction(T0, event_id="too-late")) == 0
    assert pipeline.ledger.too_late == 1
    assert not any(k.startswith(("e:", "w|")) for k in pipeline.ledger.store)
    assert pipeline.day()["contacts"] == 1  # the aggregate keeps what the final window counted


def test_a_revised_call_moves_from_abandoned_to_answered():
    pipeline = Pipeline()
    pipeline.feed(call(T0, None, event_id="v1"))
    pipeline.feed(call(T0, 3, event_id="v2"))
    assert pipeline.day() == {"calls_queued": 1, "calls_answered": 1, "calls_answered_within_threshold": 1}


def test_repeat_contacts_need_the_customer_key_and_a_late_repeat_revises_the_first_contacts_day():
    pipeline = Pipeline()
    pipeline.feed(interaction(T0, event_id="first", outcome="RESOLVED"), "customer-contacts", key="cus_1")
    assert pipeline.day()["fcr_resolved"] == 1
    pipeline.feed(interaction(T0 + 3 * D, event_id="again", outcome="RESOLVED"), "customer-contacts", key="cus_1")
    assert pipeline.day() == {"identified_contacts": 1, "fcr_eligible": 1}
    assert pipeline.day(at=T0 + 3 * D) == {"identified_contacts": 1, "repeat_contacts_7d": 1, "fcr_eligible": 1,
                                           "fcr_resolved": 1}


def test_ticks_snapshot_open_handoffs_at_window_ends_and_a_late_resolution_revises_them():
    pipeline = Pipeline()
    pipeline.feed(handoff("HandoffCreated", "h1", T0 + 10 * M), "handoffs")
    pipeline.tick(0, T0 + 26 * H)
    day = pipeline.day()
    assert day["open_handoffs:8h_24h"] == 1  # open at midnight, 14 h 50 old
    hours = {k: v for k, v in pipeline.rollup.current().items() if k.startswith("HOUR")}
    assert sum(v.get("open_handoffs:lt_1h", 0) for v in hours.values()) == 1
    pipeline.feed(handoff("HandoffResolved", "h1", T0 + 3 * H), "handoffs")  # late: resolved at 12:00
    day = pipeline.day()
    assert not any(m.startswith("open_handoffs") for m in day)
    assert day["handoffs_resolved_within_deadline"] == 1
    hours = {k: v for k, v in pipeline.rollup.current().items() if k.startswith("HOUR")}
    assert sum(n for v in hours.values() for m, n in v.items() if m.startswith("open_handoffs")) == 2  # 10:00, 11:00


def test_a_stale_partial_is_ignored():
    rollup = Rollup({}, "omnibus-kpis", lambda: datetime.now(UTC))
    key = f"HOUR|{to_micros(T0)}|WEB|"
    rollup.save(key, rollup.receive(key, {"p": 0, "seq": 5, "counts": {"contacts": 3}}))
    assert rollup.receive(key, {"p": 0, "seq": 4, "counts": {"contacts": 1}}) is None
    rolled = rollup.receive(key, {"p": 0, "seq": 6, "counts": {"contacts": 3}})
    assert rolled is not None and rolled.aggregate is None  # same sum: nothing to publish


def test_an_aggregate_is_a_valid_kpi_aggregate_record_with_its_ratios():
    from bus.config import RegistrySettings
    from bus.serde import SerdeContext, build_serde

    pipeline = Pipeline()
    pipeline.feed(call(T0, 5, contact_id="c1"))
    pipeline.feed(call(T0, None, contact_id="c2"))
    serializer, deserializer = build_serde(RegistrySettings())
    aggregate = pipeline.published[-1]
    ctx = SerdeContext(topic="t.kpi.aggregates.v1")
    decoded = deserializer(serializer(aggregate, ctx), ctx).value
    assert decoded["service_level"] == 0.5 and decoded["abandonment_rate"] == 0.5
    assert decoded["first_contact_resolution"] is None and decoded["site"] == "paris"


def merged(survivor: str, merged_id: str, at: datetime) -> Event:
    return Event("omnibus.identity.CustomerMerged", {
        "envelope": envelope(at, "PROCESSOR"), "survivor_customer_id": survivor, "merged_customer_id": merged_id,
        "moved_identifiers": [], "lineage": {"triggering_event_id": "x", "channel": "WEB", "rule": "r"}})


def test_a_merge_moves_the_merged_customers_contacts_to_the_survivor():
    pipeline = Pipeline()
    pipeline.feed(interaction(T0, event_id="web", channel="WEB", site=None, outcome="HANDED_OFF"),
                  "customer-contacts", key="cus_web")
    pipeline.feed(interaction(T0 + H, event_id="call", outcome="RESOLVED"), "customer-contacts", key="cus_phone")
    assert pipeline.day()["identified_contacts"] == 1 and "repeat_contacts_7d" not in pipeline.day()
    pipeline.feed(merged("cus_phone", "cus_web", T0 + 2 * H), "customer-contacts", key="cus_web")
    assert pipeline.day()["repeat_contacts_7d"] == 1  # the call repeats the web request, now one customer
    assert pipeline.day("WEB", "") == {"identified_contacts": 1, "fcr_eligible": 1}
    # a contact still arriving under the merged id is forwarded; the merge redelivered changes nothing
    pipeline.feed(interaction(T0 + 3 * H, event_id="late-web", channel="WEB", site=None, outcome="RESOLVED"),
                  "customer-contacts", key="cus_web")
    assert pipeline.day("WEB", "")["repeat_contacts_7d"] == 1
    assert pipeline.feed(merged("cus_phone", "cus_web", T0 + 2 * H), "customer-contacts", key="cus_web") == 0
    assert pipeline.ledger.store["cust:cus_web"]["contacts"] == []


# --- #8 point 7: a contact an operator's split moved counts once, under its current customer ----------------------

def moved(contact, split_id: str = "split-1"):
    """``contact`` as identity re-publishes it under the new customer of a split (``announcements._moved_contact``):
    an id derived from the split, its own id as the cause."""
    envelope = contact.value["envelope"]
    return Event(contact.schema, {**contact.value, "envelope": {
        **envelope, "event_id": f"{split_id}/{envelope['event_id']}", "causation_id": envelope["event_id"]}})


SON = interaction(T0, event_id="son", outcome="RESOLVED")
FATHER = interaction(T0 + H, event_id="father", outcome="RESOLVED")
SPLIT_DAY = {"identified_contacts": 2, "fcr_eligible": 2, "fcr_resolved": 2}


def test_a_contact_moved_by_a_split_leaves_the_old_customer_and_counts_once_under_the_new_one():
    """The son's and the father's calls were one customer: the father's call made the son's a repeat (no FCR). The
    split moves the father's call: each is a first contact resolved, and no call counts twice."""
    pipeline = Pipeline()
    pipeline.feed(SON, "customer-contacts", partition=0, key="cus_son")
    pipeline.feed(FATHER, "customer-contacts", partition=0, key="cus_son")
    assert pipeline.day() == {"identified_contacts": 2, "fcr_eligible": 2, "fcr_resolved": 1, "repeat_contacts_7d": 1}
    pipeline.feed(moved(FATHER), "customer-contacts", partition=1, key="cus_father", moved_from="cus_son")
    assert pipeline.day() == SPLIT_DAY
    assert [c[0] for c in pipeline.ledger.store["cust:cus_father"]["contacts"]] == ["father"]
    assert [c[0] for c in pipeline.ledger.store["cust:cus_son"]["contacts"]] == ["son"]
    # redelivered (the moved copy, the original under the old key): nothing new
    assert pipeline.feed(moved(FATHER), "customer-contacts", partition=1, key="cus_father", moved_from="cus_son") == 0
    assert pipeline.feed(FATHER, "customer-contacts", partition=0, key="cus_son") == 0
    assert pipeline.day() == SPLIT_DAY


def test_a_moved_contact_that_arrives_before_its_original_still_counts_once():
    """The two keys are on different partitions: the original may reach the old customer after the move."""
    pipeline = Pipeline()
    pipeline.feed(SON, "customer-contacts", partition=0, key="cus_son")
    pipeline.feed(moved(FATHER), "customer-contacts", partition=1, key="cus_father", moved_from="cus_son")
    pipeline.feed(FATHER, "customer-contacts", partition=0, key="cus_son")
    assert pipeline.day() == SPLIT_DAY


def test_a_released_contact_follows_a_later_merge_of_the_old_customer():
    pipeline = Pipeline()
    pipeline.feed(SON, "customer-contacts", partition=0, key="cus_son")
    pipeline.feed(moved(FATHER), "customer-contacts", partition=1, key="cus_father", moved_from="cus_son")
    pipeline.feed(merged("cus_survivor", "cus_son", T0 + 2 * H), "customer-contacts", partition=0, key="cus_son")
    pipeline.feed(FATHER, "customer-contacts", partition=0, key="cus_son")  # late, forwarded to the survivor
    assert pipeline.day() == SPLIT_DAY
    assert pipeline.ledger.store["cust:cus_survivor"]["released"] == [["father", to_micros(T0 + H), "cus_father"]]


def test_a_contact_moved_twice_is_counted_under_its_last_customer_only():
    pipeline = Pipeline()
    pipeline.feed(SON, "customer-contacts", key="cus_son")
    pipeline.feed(FATHER, "customer-contacts", key="cus_son")
    pipeline.feed(moved(FATHER), "customer-contacts", key="cus_father", moved_from="cus_son")
    pipeline.feed(moved(FATHER, "split-2"), "customer-contacts", key="cus_uncle", moved_from="cus_father")
    assert pipeline.day() == SPLIT_DAY
    assert pipeline.ledger.store["cust:cus_father"]["contacts"] == []


def test_a_move_record_with_released_contacts_round_trips_and_an_old_one_still_decodes():
    move = move_of("cus_father", (), (("father", 5, "cus_father"),))
    assert decode_move(encode_move(move)) == move
    assert decode_move(b'{"from":"cus_a","contacts":[]}') == {"from": "cus_a", "contacts": []}


def version_of(first: Event, at: datetime, outcome: str) -> Event:
    """A later version of ``first`` (an updated CTR): its own event id, naming ``first`` in ``causation_id``."""
    later = interaction(at, event_id=f"{first.value['envelope']['event_id']}-v2", outcome=outcome)
    later.value["envelope"]["causation_id"] = first.value["envelope"]["event_id"]
    later.value["interaction_id"] = first.value["interaction_id"]
    return later


def test_f13_a_later_version_of_a_contact_is_counted_once_and_its_outcome_replaces_the_first():
    """Issue #8 F13: an updated CTR is a new version of one contact, not a repeat contact: counted once per channel,
    and its outcome (the agent's wrap-up) is the one first-contact resolution reads."""
    pipeline = Pipeline()
    first = interaction(T0, event_id="ctr-1", outcome="UNKNOWN")
    later = version_of(first, T0, "RESOLVED")
    for event in (first, later):
        pipeline.feed(event)
        pipeline.feed(event, "customer-contacts", key="cus_1")
    day = pipeline.day()
    assert day["contacts"] == 1 and day["identified_contacts"] == 1 and "repeat_contacts_7d" not in day
    assert day["fcr_resolved"] == 1


# Every arrival order of 2, 3 and 4 versions of one contact, as the call-center adapter publishes them.
VERSION_ORDERS = [order for count in (2, 3, 4) for order in itertools.permutations(range(count))]
LATEST_FCR = {2: {"fcr_resolved": 1}, 3: {}, 4: {}}  # RESOLVED, UNRESOLVED, TRANSFERRED (LATER_WRAP_UPS)


@pytest.mark.parametrize("order", VERSION_ORDERS, ids=lambda order: "-".join(f"v{n + 1}" for n in order))
def test_any_number_of_versions_of_one_contact_count_once_in_any_arrival_order(order: tuple[int, ...]) -> None:
    """Left by F13's fix: a third version names the second as its cause, not the first, and ``contacts`` counted it
    again. Every version counts as the one contact (its ``interaction_id``), and the latest one's outcome is what
    first-contact resolution reads, however many versions there are and in whatever order they arrive."""
    versions = published_versions(len(order))
    stamped = versions[0][0].value["envelope"]
    pipeline, where = Pipeline(), {"site": stamped["site"], "at": stamped["occurred_at"]}
    for index in order:
        for event in versions[index]:
            if event.schema.endswith(("InteractionRecorded", "CallCompleted")):
                pipeline.feed(event)
            if event.schema.endswith("InteractionRecorded"):
                pipeline.feed(event, "customer-contacts", key="cus_1")
        assert pipeline.day(**where).get("contacts") == 1
    day = pipeline.day(**where)
    counted = {measure: day.get(measure) for measure in (
        "contacts", "interactions", "identified_contacts", "repeat_contacts_7d", "fcr_eligible", "fcr_resolved")}
    assert counted == {"contacts": 1, "interactions": 1, "identified_contacts": 1, "repeat_contacts_7d": None,
                       "fcr_eligible": 1, "fcr_resolved": LATEST_FCR[len(order)].get("fcr_resolved")}


def test_an_interaction_counted_before_contacts_were_keyed_is_not_counted_again():
    """A redelivery after the upgrade (the ledger kept one-shot events under ``e:`` and their event id, or the
    version they named): the stored entry still says it was counted."""
    first = interaction(T0, event_id="ctr-1")
    pipeline = Pipeline()
    pipeline.feed(first)
    (key,) = [key for key in pipeline.ledger.store if key.startswith("i:")]
    pipeline.ledger.store["e:ctr-1"] = pipeline.ledger.store.pop(key)
    for event in (first, version_of(first, T0, "RESOLVED")):
        assert pipeline.feed(event) == 0
    assert pipeline.day()["contacts"] == 1
