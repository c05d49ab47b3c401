"""``omnibus identity split`` and ``merge`` (and ``move-contact``'s checks) against a running worker on the real broker."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.support import HMAC_KEY, T0, interaction, observed, settings
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.settings import settings_with_topics


def test_split_rejects_an_invalid_identifier_before_publishing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", HMAC_KEY)
    result = CliRunner().invoke(omnibus, ["identity", "split", "--customer", "cus_x", "--identifier",
                                          "NATIONAL_ID:110105194912310021", "--by", "ops-3", "--reason", "typo"])
    assert result.exit_code == 2 and "check character" in result.output


@pytest.mark.parametrize("raw", ["phone=+33612345678", "PHONE=+33612345678:x", "MAIL:ann@x.org",
                                 "PHONE:+3361234"])
def test_split_never_echoes_a_rejected_identifier(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", HMAC_KEY)
    result = CliRunner().invoke(omnibus, ["identity", "split", "--customer", "cus_x", "--identifier", raw,
                                          "--by", "ops-3", "--reason", "typo"])
    assert result.exit_code == 2 and ("EMAIL" in result.output or raw.startswith("PHONE:"))
    assert "3361234" not in result.output and "ann@x.org" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_split_refuses_an_unknown_customer_or_an_identifier_it_does_not_hold() -> None:
    import typer

    from processors.identity.cli_common import _refuse_unknown

    owners = {"ACCOUNT:A-1": "cus_a", "EMAIL:ann@x.org": "cus_a", "ACCOUNT:B-1": "cus_b"}
    _refuse_unknown("cus_a", ["ACCOUNT:A-1"], owners)  # a current customer holding it: no exit
    for customer, keys in (("cus_gone", ["ACCOUNT:A-1"]), ("cus_a", ["ACCOUNT:A-1", "ACCOUNT:B-1"])):
        with pytest.raises(typer.Exit) as exited:
            _refuse_unknown(customer, keys, owners)
        assert exited.value.exit_code == 2


@pytest.mark.parametrize(("args", "says"), [
    (["--from", "cus_a", "--to", "cus_a", "--by", "ops-3", "--reason", "wrong pop"], "name the same customer"),
    (["--from", "cus_a", "--to", "cus_b", "--by", " ", "--reason", "wrong pop"], "--by must not be empty"),
    (["--from", "cus_a", "--to", "cus_b", "--by", "ops-3", "--reason", ""], "--reason must not be empty"),
])
def test_move_contact_refuses_before_reading_any_topic(args: list[str], says: str) -> None:
    """tester10 #14: who and why are recorded, so they must be given; a move to the same customer moves nothing."""
    result = CliRunner().invoke(omnibus, ["identity", "move-contact", "CALL-1", *args])
    assert result.exit_code == 2 and says in result.output, result.output


@pytest.mark.parametrize(("args", "says"), [
    ([], "Missing option '--by'"),
    (["--by", " "], "--by must not be empty"),
])
def test_split_refuses_without_who_splits_before_reading_any_topic(args: list[str], says: str) -> None:
    """tester12 M6: a bank's audit needs who undid a merge; ``--by`` is required and recorded, as move-contact's."""
    result = CliRunner().invoke(omnibus, ["identity", "split", "--customer", "cus_x", "--identifier",
                                          "EMAIL:a@x.org", *args, "--reason", "typo"])
    assert result.exit_code == 2 and says in result.output, result.output


@pytest.mark.parametrize(("args", "says"), [
    (["--customer", "cus_x", "--reason", "line ceased"], "Missing option '--by'"),
    (["--customer", "cus_x", "--by", " "], "--by must not be empty"),
    (["--by", "ops-1"], "Missing option '--customer'"),
])
def test_release_refuses_without_who_or_whose_before_reading_any_topic(args: list[str], says: str) -> None:
    """tester F1: who released a number is recorded (as a split's ``--by``), and from which customer."""
    result = CliRunner().invoke(omnibus, ["identity", "release", "PHONE", "+33699887701", *args])
    assert result.exit_code == 2 and says in result.output, result.output


@pytest.mark.parametrize(("kind", "raw", "extra"), [("PHONE", "+3369988", []), ("MAIL", "carol@x.org", []),
                                                    ("PHONE", "06 99 88 77 01", ["--region", "ZZ"])])
def test_release_never_echoes_a_rejected_identifier(monkeypatch: pytest.MonkeyPatch, kind: str, raw: str,
                                                    extra: list[str]) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", HMAC_KEY)
    result = CliRunner().invoke(omnibus, ["identity", "release", kind, raw, "--customer", "cus_x", "--by", "ops-1",
                                          *extra])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "99 88" not in result.output and "3369988" not in result.output and "carol@" not in result.output


def test_release_names_the_identifier_it_refuses_by_type_only(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from processors.identity.cli_common import _refuse_unknown

    with pytest.raises(typer.Exit):
        _refuse_unknown("cus_a", ["PHONE:+33699887701"], {"PHONE:+33699887701": "cus_b", "ACCOUNT:A": "cus_a"},
                        labels=["the identifier"])
    assert capsys.readouterr().err == "error: the identifier (PHONE) is not held by customer cus_a\n"


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_an_operator_splits_a_wrong_merge(bootstrap_servers: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    topic = IDENTIFIERS_OBSERVED.name(config.topics)
    serializer, _ = build_serde(config.registry)
    events = [observed([("EMAIL", "ann@x.org"), ("ACCOUNT", "A-1")], minutes=0),
              observed([("EMAIL", "bob@x.org"), ("ACCOUNT", "B-1")], minutes=5),
              observed([("ACCOUNT", "A-1"), ("ACCOUNT", "B-1")], minutes=9),  # the wrong merge
              observed([("EMAIL", "ghost@x.org")], minutes=10)]  # a mistyped record: a customer of its own
    async with EventProducer(config, serializer) as producer:
        for event in events:  # one at a time: the merge must come last
            await producer.publish(Outgoing(topic, "k", event))

    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "TOPICS__PREFIX": config.topics.prefix,
                        "TOPICS__PARTITIONS": "2", "PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)
    async with running_workers(config, settings(), tmp_path, 1) as workers:
        group = workers[0].app.conf.id
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        merged = await assignments(config)
        source = merged["ACCOUNT:A-1"]
        assert merged["ACCOUNT:B-1"] == source
        unknown = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "split", "--customer", "cus_nobody", "--identifier", "account:B-1", "--by", "ops-3",
            "--reason", "typo"])
        assert unknown.exit_code == 2 and "no current customer cus_nobody" in unknown.output, unknown.output
        not_held = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "split", "--customer", source, "--identifier", "account:B-1", "--identifier",
            "account:Z-9", "--by", "ops-3", "--reason", "typo"])
        assert not_held.exit_code == 2 and "number 2 (ACCOUNT) is not held" in not_held.output, not_held.output
        assert "Z-9" not in not_held.output
        result = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "split", "--customer", source, "--identifier", "account:B-1",
            "--identifier", "EMAIL:Bob@x.org", "--by", "ops-3", "--reason", "two people, one typo"])
        assert result.exit_code == 0, result.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        after = await assignments(config)
        (split,) = [e.event.value for e in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
                    if e.event.schema == "omnibus.identity.CustomerSplit"]
        assert split["source_customer_id"] == source and split["reason"] == "two people, one typo"
        assert split["operator"] == "ops-3"  # tester12 M6: who undid the merge is recorded
        assert split["lineage"]["rule"] == "manual-split"
        assert after["ACCOUNT:B-1"] == after["EMAIL:bob@x.org"] == split["new_customer_id"]
        assert after["ACCOUNT:A-1"] == after["EMAIL:ann@x.org"] == source
        # tester F7: the split was wrong after all; the operator merges the two again (identity merge).
        merged = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "merge", split["new_customer_id"], source, "--by", "ops-4", "--reason", "one person after all"])
        assert merged.exit_code == 0 and "CustomerMerged" in merged.output, merged.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        again = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "merge", split["new_customer_id"], source, "--by", "ops-4", "--reason", "twice"])
        assert again.exit_code == 2 and "one customer already" in again.output, again.output
        # tester21 F8: once its only identifier is released, a customer is still reachable by move-contact and merge.
        now = await assignments(config)
        ghost, ann = now["EMAIL:ghost@x.org"], now["ACCOUNT:A-1"]
        released = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "release", "email", "ghost@x.org", "--customer", ghost, "--by", "ops-4", "--reason", "typo"])
        assert released.exit_code == 0, released.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        assert "EMAIL:ghost@x.org" not in await assignments(config)
        # move-contact finds the customer (no "no current customer"), then its contact check: tx-9 is not on it
        moved = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "move-contact", "tx-9", "--from", ghost, "--to", ann, "--by", "ops-4", "--reason", "Ann's"])
        assert moved.exit_code == 1 and "nothing to move" in moved.output, moved.output
        reached = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "merge", ann, ghost, "--by", "ops-4", "--reason", "the mistyped record is Ann's"])
        assert reached.exit_code == 0, reached.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)

    rejoined = await assignments(config)
    assert len({rejoined[key] for key in ("ACCOUNT:A-1", "EMAIL:ann@x.org", "ACCOUNT:B-1", "EMAIL:bob@x.org")}) == 1
    merges = [e.event.value for e in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
              if e.event.schema == "omnibus.identity.CustomerMerged"]
    manual = {m["reason"]: m for m in merges if m["lineage"]["rule"] == "manual-merge"}
    assert sorted(manual) == ["one person after all", "the mistyped record is Ann's"]
    assert {m["operator"] for m in manual.values()} == {"ops-4"}
    ghost_merge = manual["the mistyped record is Ann's"]
    assert (ghost_merge["survivor_customer_id"], ghost_merge["merged_customer_id"]) == (ann, ghost)


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_an_operator_lists_and_accepts_a_merge_review(bootstrap_servers: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bus.topics import IDENTITY_REVIEWS
    from processors.replay.cli import replay_identity
    from processors.verify.run import averify
    from tests.processors.identity.support import matcher_settings

    config = await settings_with_topics(bootstrap_servers, partitions=2)
    topic = IDENTIFIERS_OBSERVED.name(config.topics)
    serializer, _ = build_serde(config.registry)
    events = [observed([("ACCOUNT", "1000001"), ("PHONE", "+33612345678")], minutes=0),
              observed([("ACCOUNT", "2000002"), ("PHONE", "+33612345678")], minutes=5)]  # two accounts, no traits
    async with EventProducer(config, serializer) as producer:
        for event in events:
            await producer.publish(Outgoing(topic, "k", event))
    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "TOPICS__PREFIX": config.topics.prefix,
                        "TOPICS__PARTITIONS": "2", "PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)
    async with running_workers(config, matcher_settings(), tmp_path, 1) as workers:
        group = workers[0].app.conf.id
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        before = await assignments(config)
        assert before["ACCOUNT:1000001"] != before["ACCOUNT:2000002"]
        listed = await asyncio.to_thread(CliRunner().invoke, omnibus, ["identity", "review", "list"])
        assert listed.exit_code == 0 and "1 open review" in listed.output and "1000001" not in listed.output
        (request,) = [e.event.value for e in one_per_event_id(await read_events(config, IDENTITY_REVIEWS))]
        short = request["review_id"].split("-")[0]  # the short id an operator copies (tester15 F12)
        accepted = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "review", "accept", short, "--by", "ops-7", "--reason", "same person"])
        assert accepted.exit_code == 0 and request["review_id"] in accepted.output, accepted.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        unknown = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "review", "reject", short, "--by", "ops-7", "--reason", "again"])
        assert unknown.exit_code == 2 and "already accepted by ops-7" in unknown.output  # decided: no longer open
        # tester F1: the number was recycled; once released, a new holder's event takes it (graph/release.py).
        merged = (await assignments(config))["ACCOUNT:1000001"]
        released = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "release", "phone", "+33 6 12 34 56 78", "--customer", merged, "--by", "ops-7",
            "--reason", "line ceased"])
        assert released.exit_code == 0 and "12 34" not in released.output, released.output
        await wait_until_quiet(config, watched_topics(workers[0]), group)
        after_release = int((datetime.now(UTC) - T0).total_seconds() // 60) + 1  # events occur after the release
        late = interaction([("PHONE", "+33612345678")], minutes=1)  # the previous holder's call, uploaded late
        async with EventProducer(config, serializer) as producer:
            await producer.publish(Outgoing(topic, "k", observed([("ACCOUNT", "3000003"), ("PHONE", "+33612345678")],
                                                                 minutes=after_release)))
            await producer.publish(Outgoing(CONTACT_EVENTS.name(config.topics), "late", late))
        await wait_until_quiet(config, watched_topics(workers[0]), group)

    after = await assignments(config)
    assert after["ACCOUNT:1000001"] == after["ACCOUNT:2000002"] != after["PHONE:+33612345678"]
    assert after["PHONE:+33612345678"] == after["ACCOUNT:3000003"]
    (release,) = [e.event.value for e in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
                  if e.event.value["lineage"]["rule"] == "manual-release"]
    assert (release["customer_id"], release["evicted"], release["operator"]) == (after["ACCOUNT:1000001"], True,
                                                                                  "ops-7")
    # tester18 F5: the late call dated before the release is on the customer that held the number then.
    late_id = late.value["envelope"]["event_id"]
    assert [r.key for r in await read_events(config, CUSTOMER_CONTACTS)
            if r.event.value["envelope"]["event_id"] == late_id] == [after["ACCOUNT:1000001"]]
    decided = [e.event.value for e in one_per_event_id(await read_events(config, IDENTITY_REVIEWS))
               if e.event.schema == "omnibus.identity.MergeReviewDecided"]
    assert decided[0]["operator"] == "ops-7" and decided[0]["reason"] == "same person"
    # verify replays the release where the processor applied it (processors/replay/releases.py): no difference.
    started = time.monotonic()
    report = await averify(config, processors=("identity",), identity=matcher_settings())
    assert report.ok, "\n".join(report.lines())
    replayed = await asyncio.to_thread(replay_identity, config)  # omnibus replay identity: the same comparison
    assert replayed.rebuilt == replayed.running
    print(f"verify and replay after the release: {time.monotonic() - started:.1f} s")
