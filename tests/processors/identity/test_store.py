import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from processors.identity.graph.local import MemoryStore
from processors.identity.store import Overlay


def test_an_overlay_buffers_writes_until_commit() -> None:
    base = MemoryStore()
    base.put_node("A:1", {"o": "cus_1"})
    batch = Overlay(base)
    transaction = Overlay(batch)
    transaction.put_node("A:1", {"o": "cus_2"})
    transaction.put_profile("cus_2", {"s": 1})
    transaction.put_node("B:2", None)
    transaction.put_contact("cus_2/00", "record")  # type: ignore[arg-type]
    assert batch.get_node("A:1") == {"o": "cus_1"} and transaction.get_node("A:1") == {"o": "cus_2"}
    assert transaction.get_contact("cus_2/00") == "record" and batch.get_contact("cus_2/00") is None
    assert transaction.commit() == 4
    assert base.get_node("A:1") == {"o": "cus_1"}  # not yet durable
    batch.commit()
    assert base.get_node("A:1") == {"o": "cus_2"} and base.get_profile("cus_2") == {"s": 1}
    assert base.get_node("B:2") is None and base.get_contact("cus_2/00") == "record"


def test_transactions_hand_their_changes_to_the_batch_which_writes_each_key_once_in_first_write_order() -> None:
    written: list[tuple[str, object]] = []
    base = SimpleNamespace(put_node=lambda key, state: written.append((key, state)),
                           put_profile=lambda key, profile: written.append((f"profile {key}", profile)),
                           put_contact=lambda key, record: written.append((f"contact {key}", record)))
    batch = Overlay(base)  # type: ignore[arg-type]
    first, second = Overlay(batch), Overlay(batch)
    first.put_node("A:1", "a1")  # type: ignore[arg-type]
    first.put_node("B:2", "b1")  # type: ignore[arg-type]
    first.put_profile("cus_1", {"s": 1})
    assert first.commit() == 3
    second.put_node("A:1", "a2")  # type: ignore[arg-type]
    second.put_node("C:3", None)
    second.put_contact("cus_1/00", None)
    assert second.commit() == 3 and written == []
    assert batch.get_node("A:1") == "a2" and batch.get_profile("cus_1") == {"s": 1}
    assert batch.commit() == 5
    assert written == [("A:1", "a2"), ("B:2", "b1"), ("C:3", None), ("profile cus_1", {"s": 1}),
                       ("contact cus_1/00", None)]


def test_a_contact_record_is_written_to_its_customers_partition_and_read_back() -> None:
    import faust

    from bus.config import TopicSettings
    from bus.fenced_table import fenced_table
    from processors.identity.graph.messages import ContactRecord, EventRef
    from processors.identity.graph.split_contacts import contact_key, partition_key
    from processors.identity.store import CONTACTS_TABLE, FaustTables
    from processors.identity.wire import partition_of

    app = faust.App("contacts-store-test", broker="kafka://127.0.0.1:1", store="memory://")
    tables = {name: fenced_table(app, name, TopicSettings(), key_type=bytes, value_type=bytes, partitions=8,
                                 use_partitioner=True, **({"partition_key": partition_key} if name == CONTACTS_TABLE
                                                          else {}))
              for name in ("identity-nodes", "identity-profiles", CONTACTS_TABLE)}
    store = FaustTables(*tables.values(), lambda: 8)
    record = ContactRecord("ev-1", 5, "WEB", ["PHONE:+1"], EventRef("t", "s", b"\x01"))
    keys = [contact_key(f"cus_{n:024x}", b"\x00" * 6) for n in range(20)]
    for key in keys:
        store.put_contact(key, record)
    assert [r.partition for r in store.drain_changelog(1)] == [partition_of(key.split("/")[0], 8) for key in keys]
    assert store.get_contact(keys[0]) == record and store.get_contact(keys[0] + "0") is None
    store.put_contact(keys[0], None)
    (tombstone,) = store.drain_changelog(1)
    assert tombstone.value is None and store.get_contact(keys[0]) is None


def test_a_contact_record_the_table_held_before_the_compressed_format_reads_and_its_next_write_is_compressed() -> None:
    from processors.identity.graph.contact_codec import CONTACT_ZSTD_V1
    from processors.identity.store import CONTACTS_TABLE, FaustTables
    from tests.processors.identity.graph.test_contact_codec import PLAIN, RECORD

    tables = [SimpleNamespace(data={}, value_serializer="raw", changelog_topic=SimpleNamespace(
        get_topic_name=lambda name=name: f"{name}-changelog")) for name in ("nodes", "profiles", CONTACTS_TABLE)]
    store, key = FaustTables(*tables, lambda: 1), "cus_0123456789abcdef01234567/000000000000"
    tables[2].data[key.encode()] = PLAIN  # as a restore from a changelog written before reads it
    assert store.get_contact(key) == RECORD
    store.put_contact(key, RECORD)
    (written,) = store.drain_changelog(1)
    assert written.value == tables[2].data[key.encode()] and written.value[0] == CONTACT_ZSTD_V1
    assert len(written.value) < len(PLAIN) and store.get_contact(key) == RECORD


def test_faust_tables_stamp_every_changelog_record_with_the_batch_version_and_a_restore_keeps_the_newer() -> None:
    import faust

    from bus.config import TopicSettings
    from bus.fenced_table import fenced_table
    from bus.fencing import fence_headers
    from processors.identity.graph.state import IdentifierState
    from processors.identity.store import FaustTables

    app = faust.App("fenced-store-test", broker="kafka://127.0.0.1:1", store="memory://")
    nodes = fenced_table(app, "identity-nodes", TopicSettings(), key_type=bytes, value_type=bytes, partitions=1)
    profiles = fenced_table(app, "identity-profiles", TopicSettings(), key_type=bytes, value_type=bytes, partitions=1)
    owner, paused = FaustTables(nodes, profiles, profiles, lambda: 1), FaustTables(nodes, profiles, profiles, lambda: 1)
    owner.put_node("EMAIL:a", IdentifierState(owner="cus_new", version=2))
    (newer,) = owner.drain_changelog(8)
    paused.put_node("EMAIL:a", IdentifierState(owner="cus_old", version=1))
    (stale,) = paused.drain_changelog(7)
    assert newer.headers[:1] == fence_headers(8) and stale.headers[:1] == fence_headers(7)
    restored = fenced_table(faust.App("fenced-store-restore", broker="kafka://127.0.0.1:1", store="memory://"),
                            "identity-nodes", TopicSettings(), key_type=bytes, value_type=bytes, partitions=1)
    restored.apply_changelog_batch([
        SimpleNamespace(key=r.key, value=r.value, message=SimpleNamespace(
            partition=0, offset=offset, headers=list(r.headers), value=r.value, key=r.key))
        for offset, r in enumerate([newer, stale])])  # the paused worker's record lands last
    assert FaustTables(restored, profiles, profiles, lambda: 1).get_node("EMAIL:a") == IdentifierState(owner="cus_new", version=2)


def test_each_drain_is_one_batch_whose_done_markers_go_to_the_node_changelog_of_every_partition_it_wrote() -> None:
    import faust

    from bus.batch_restore import done_of, record_batch
    from bus.config import TopicSettings
    from bus.fenced_table import fenced_table
    from bus.fencing import is_marker, record_version
    from processors.identity.graph.state import IdentifierState
    from processors.identity.store import FaustTables
    from processors.identity.wire import partition_of

    app = faust.App("batch-store-test", broker="kafka://127.0.0.1:1", store="memory://")
    tables = [fenced_table(app, f"identity-{name}", TopicSettings(), key_type=bytes, value_type=bytes, partitions=8)
              for name in ("nodes", "profiles", "contacts")]
    store = FaustTables(*tables, lambda: 8)
    keys = [f"EMAIL:{index}" for index in range(6)]
    for key in keys:
        store.put_node(key, IdentifierState(owner="cus_1", version=1))
    first = store.drain_changelog(3)
    store.put_node(keys[0], None)
    (second,) = store.drain_changelog(3)
    assert store.drain_changelog(3) == [] and store.done_markers([]) == []
    batches = {record_batch(record.headers) for record in first}
    assert len(batches) == 1 and record_batch(second.headers) == ((writer := next(iter(batches))[0]), 2)
    assert batches == {(writer, 1)}
    markers = store.done_markers(first)
    assert sorted(m.partition for m in markers) == sorted({partition_of(key, 8) for key in keys})
    assert all(m.topic == first[0].topic and is_marker(m.key) and record_version(m.headers) == 3
               and done_of(m.key, m.value) == (writer, 1) for m in markers)


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_a_restarted_worker_restores_the_newer_state_when_a_stale_changelog_record_landed_after_it(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from bus.fenced_table import changelog_configs
    from bus.fencing import UNVERSIONED, fence_headers, is_marker, record_version
    from bus.kafka_client import connection_options
    from bus.producer import EventProducer
    from bus.topic import KafkaRecord
    from processors.identity.graph.legacy import decode_any_state
    from processors.identity.graph.state import IdentifierState, encode_state
    from processors.replay import read_topics
    from processors.replay.identity import changelog
    from bus.serde import build_serde
    from bus.topic_admin import _config_drifts
    from tests.processors.identity.broker import running_workers, wait_until_quiet, watched_topics
    from tests.processors.identity.support import unlimited_settings
    from tests.processors.identity.test_agent import publish, workload
    from tests.support.settings import settings_with_topics

    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    await publish(settings, workload(size=30, universe=12, seed=5))
    async with running_workers(settings, unlimited_settings(), tmp_path, 1) as (worker,):
        await wait_until_quiet(settings, watched_topics(worker), worker.app.conf.id)
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:  # faust created the changelog to be compacted sooner than the broker's defaults
        name = changelog().name(settings.topics)
        assert (await _config_drifts(admin, {name: changelog_configs(settings.topics)}))[name] == {}
    finally:
        await admin.close()
    records = (await read_topics(settings, [changelog()], raw=[changelog()])).records
    last = {r.key: r for r in records
            if r.key and not r.key.startswith(b"cus_") and not is_marker(r.key) and r.value is not None}
    assert any(is_marker(r.key) for r in records)  # the worker marked the partition it took
    (newer, unversioned) = list(last.values())[:2]
    stale_state = encode_state(IdentifierState(owner="cus_stale", version=1))
    async with EventProducer(settings, build_serde(settings.registry)[0]) as producer:  # what a paused worker's producer sends when it resumes
        await producer.send([
            KafkaRecord(newer.topic, newer.key, stale_state, fence_headers(record_version(newer.headers) - 1), 0),
            KafkaRecord(unversioned.topic, unversioned.key, stale_state, (), 0),  # written before versions
        ])
    after = (await read_topics(settings, [changelog()], raw=[changelog()])).records
    assert [r.value for r in after[-2:]] == [stale_state, stale_state]  # a last-write restore would take them
    assert record_version(newer.headers) > UNVERSIONED
    async with running_workers(settings, unlimited_settings(), tmp_path, 1) as (worker,):  # restores
        deadline = time.monotonic() + 60
        while (worker.nodes.fence.last_offset(0) or -1) < after[-1].offset and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for record in (newer, unversioned):
            assert worker.store.get_node(record.key.decode()) == decode_any_state(record.value)
        assert worker.nodes.fence.skipped == 2
        deadline = time.monotonic() + 60  # ends as soon as right; generous for a loaded machine
        while time.monotonic() < deadline:  # the owner writes both keys again: their last record, the one
            final = {r.key: r.value for r in (await read_topics(settings, [changelog()], raw=[changelog()])).records}
            if all(final[r.key] == r.value for r in (newer, unversioned)):  # compaction keeps, is right again
                break
            await asyncio.sleep(0.5)
        assert [final[r.key] for r in (newer, unversioned)] == [newer.value, unversioned.value]


def _plain_tables() -> list[SimpleNamespace]:
    """The node, profile and contacts tables as ``FaustTables`` uses them: ``data``, the codec and changelog name."""
    return [SimpleNamespace(data={}, value_serializer="raw", changelog_topic=SimpleNamespace(
        get_topic_name=lambda name=name: f"identity-{name}-changelog")) for name in ("nodes", "profiles", "contacts")]


PROFILE = {"recent_contacts": {"WEB": [{"id": "0" * 32, "at": 1_750_000_000_000_000, "kind": "LOGIN"}]}}


def test_a_customers_profile_is_kept_in_its_node_value_one_changelog_record_for_both() -> None:
    """#9 point 5 (memory33): no profile row (its key, object and dict entry were ~58 B per identifier); an event that
    changes the customer and its profile writes one changelog record."""
    from processors.identity.graph.customer_codec import CUSTOMER_WITH_PROFILE
    from processors.identity.graph.state import CustomerState, encode_state
    from processors.identity.store import FaustTables

    nodes, profiles, contacts = _plain_tables()
    store, key = FaustTables(nodes, profiles, contacts, lambda: 4), "cus_0123456789abcdef01234567"
    customer = CustomerState(created=True, members={"EMAIL:a@x.org": (1, 2**61)})
    store.put_node(key, customer)
    store.put_profile(key, PROFILE)
    (record,) = store.drain_changelog(1)
    assert record.topic == "identity-nodes-changelog" and record.value == nodes.data[key.encode()]
    assert record.value[0] == CUSTOMER_WITH_PROFILE and profiles.data == {}
    assert store.get_node(key) == customer and store.get_profile(key) == PROFILE
    changed = CustomerState(created=True, members={"EMAIL:a@x.org": (1, 2**61), "PHONE:+1": (1, 2**61)})
    store.put_node(key, changed)  # the customer changes: its profile stays with it
    assert store.get_node(key) == changed and store.get_profile(key) == PROFILE
    store.put_profile(key, None)  # the profile goes: the customer's value alone again
    assert nodes.data[key.encode()] == encode_state(changed) and store.get_profile(key) is None
    assert [r.topic for r in store.drain_changelog(1)] == ["identity-nodes-changelog"]


def test_a_profile_row_written_before_reads_and_its_next_write_moves_it_into_the_node_value() -> None:
    """Upgrade (memory33): a profile table restored from a changelog written before holds the profile; it is read from
    there until the customer's next profile write, which keeps it in the node value and tombstones the row."""
    from processors.identity.graph.profile_codec import encode_profile
    from processors.identity.graph.state import CustomerState
    from processors.identity.store import FaustTables

    nodes, profiles, contacts = _plain_tables()
    store, key = FaustTables(nodes, profiles, contacts, lambda: 4), "cus_0123456789abcdef01234567"
    store.put_node(key, CustomerState(created=True))
    profiles.data[key.encode()] = encode_profile(PROFILE)  # as a restore of the older changelog reads it
    store.drain_changelog(1)
    assert store.get_profile(key) == PROFILE
    store.put_profile(key, {**PROFILE, "products": {}})
    written = {r.topic: r for r in store.drain_changelog(1)}
    assert written["identity-profiles-changelog"].value is None and profiles.data == {}
    assert store.get_profile(key) == {**PROFILE, "products": {}}


def test_a_profile_without_a_customer_state_to_hold_it_is_a_row_and_goes_back_to_one_when_the_customer_goes() -> None:
    from processors.identity.graph.state import CustomerState, IdentifierState
    from processors.identity.store import FaustTables

    nodes, profiles, contacts = _plain_tables()
    store, key = FaustTables(nodes, profiles, contacts, lambda: 4), "cus_0123456789abcdef01234567"
    store.put_profile(key, PROFILE)  # before its node state: a row
    assert key.encode() in profiles.data and store.get_profile(key) == PROFILE
    store.put_node("EMAIL:a@x.org", IdentifierState(owner=key))
    store.put_profile("EMAIL:a@x.org", PROFILE)  # not a customer's value: a row too
    assert b"EMAIL:a@x.org" in profiles.data and store.get_node("EMAIL:a@x.org") == IdentifierState(owner=key)
    store.put_node(key, CustomerState(created=True))
    store.put_profile(key, PROFILE)
    assert key.encode() not in profiles.data
    store.put_node(key, None)  # the node goes, its profile stays readable
    assert store.get_node(key) is None and store.get_profile(key) == PROFILE and key.encode() in profiles.data
