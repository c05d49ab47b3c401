"""``omnibus replay``'s printing: what ``replay identity`` shows of identifiers is masked, as ``verify`` masks them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bus.identifiers.masking import tag
from bus.topics import CUSTOMER_EVENTS, TopicSpec
from processors.identity import config
from processors.replay import TopicsReplay, cli
from processors.replay.compare import compare
from tests.processors.identity.support import HMAC_KEY, observed, settings
from tests.processors.verify.support import INPUT, SETTINGS, record
from tests.processors.verify.test_reviews import jonathan_and_the_mistyped_account, outputs_of, split_off


def test_details_show_keys_and_the_strings_of_values_through_shown():
    result = compare({"EMAIL:jsmyth@t7.example": ["EMAIL:jsmyth@t7.example", "PHONE:+33622222222"], "k": {"x": "a"}},
                     {"EMAIL:jsmyth@t7.example": ["EMAIL:jsmyth@t7.example"], "k": {"x": "b"}})
    assert result.details(shown=str.upper) == [
        "  EMAIL:JSMYTH@T7.EXAMPLE: rebuilt ['EMAIL:JSMYTH@T7.EXAMPLE', 'PHONE:+33622222222'] "
        "running ['EMAIL:JSMYTH@T7.EXAMPLE']",
        "  K: x rebuilt 'A' running 'B'"]


def test_replay_identity_prints_identifiers_masked(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The new user's finding 7: ``replay identity`` printed ``EMAIL:jsmyth@t7.example`` where verify prints
    ``EMAIL:j***@t7.example``."""
    inputs = [record(INPUT, "a", observed([("EMAIL", "jsmyth@t7.example"), ("PHONE", "+33622222222")],
                                          event_id="e1"), 0)]

    def read(_settings: object, _what: str, specs: list[TopicSpec], raw: list[TopicSpec] = ()) -> TopicsReplay:  # type: ignore[assignment]
        return TopicsReplay([] if raw else inputs)  # the changelog is empty: the running side holds nothing

    monkeypatch.setattr(cli, "read_with_progress", read)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", HMAC_KEY)
    assert not cli.replay("identity", SETTINGS)
    out = capsys.readouterr().out
    tagged = tag(HMAC_KEY.encode(), "EMAIL", "jsmyth@t7.example")  # the token key's tag (tester28 F10)
    assert f"EMAIL:j***@t7.example~{tagged}: only in the rebuilt state" in out
    assert "jsmyth" not in out and "22222222" not in out


def test_replay_identity_compares_through_an_operator_split(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The new user's finding 7: "rebuilt state DIFFERS" after a split. The recomputation replays it from its
    announcement (``processors.replay.operators``): the same two customers on both sides."""
    recomputed, running = jonathan_and_the_mistyped_account(), jonathan_and_the_mistyped_account()
    account = next(key for key in recomputed.identifiers_of["e2"] if key.startswith("ACCOUNT:"))
    split_events = split_off(running, account)  # then the node table as the running processor holds it
    outputs = replace(outputs_of(running, []), customer_events=split_events)
    inputs = [record(INPUT, "a", observed([("EMAIL", "jonathan@t7.example"), ("PHONE", "+33622222222")],
                                          event_id="e1"), 0),
              record(INPUT, "b", observed([("PHONE", "+33622222222"), ("ACCOUNT", "ACC-7718")], event_id="e2",
                                          minutes=1), 1)]

    def read(_settings: object, _what: str, specs: list[TopicSpec], raw: list[TopicSpec] = ()) -> TopicsReplay:  # type: ignore[assignment]
        if raw:
            return TopicsReplay(outputs.changelog)
        if CUSTOMER_EVENTS in specs:
            return TopicsReplay([*outputs.customer_events, *outputs.assignments])
        return TopicsReplay(inputs)

    monkeypatch.setattr(cli, "read_with_progress", read)
    monkeypatch.setattr(config, "load_identity_settings", settings)
    assert cli.replay("identity", SETTINGS), capsys.readouterr().out
    out = capsys.readouterr().out
    assert ("replayed 1 operator command announced on customer.events: 0 merges, 1 split or unmerge, "
            "0 releases; compared after joining 0 pairs of customers that reviews link") in out
    assert "same: 2, differing: 0" in out


def test_the_replayed_note_tells_the_commands_read_by_kind() -> None:
    """tester22 F13: after 2 merges, 1 unmerge and 1 split it printed "compared after joining the customers that 0
    operator split(s) or merge(s) and 1 review(s) link": the 0 counted pairs still to join, not decisions. Now every
    command read is replayed, and counted by kind."""
    from processors.replay.operators import OperatorMerge, OperatorSplit
    from processors.replay.releases import Release

    merge = OperatorMerge("cus_a", "cus_b", ("EMAIL:x",), "m", "ops", "one person", 1)
    split = OperatorSplit("cus_a", "cus_c", ("EMAIL:x",), "s", 2, None, None, "BACK_OFFICE", 2)
    release = Release("PHONE:1", 3, 3, "r", "cus_a", "ops", "BACK_OFFICE")
    assert cli.replayed_note([merge, merge, split, split, release], 1, 1) == (
        "replayed 5 operator commands announced on customer.events: 2 merges, 2 splits or unmerges, "
        "1 release; 1 of them not replayed (the recomputation holds none of its customers); compared after "
        "joining 1 pair of customers that reviews link (omnibus verify lists them)")
    assert cli.replayed_note([], 0, 0) is None


@pytest.mark.parametrize(("args", "differs", "exit_code"), [
    ([], True, 1), ([], False, 0), (["--strict"], True, 1), (["--no-strict"], True, 0), (["--no-strict"], False, 0),
])
def test_replay_exits_1_on_a_difference_unless_no_strict(monkeypatch: pytest.MonkeyPatch, args: list[str],
                                                         differs: bool, exit_code: int) -> None:
    """A new user's finding (tester8 #11): ``replay identity`` printed "rebuilt state DIFFERS" and exited 0, useless
    in a script or a cron job. Now as ``diff``: 0 equal, 1 different, 2 a usage error; ``--no-strict`` reports only."""
    from typer.testing import CliRunner

    from omnibus.cli import app as omnibus

    running = {"k": {"x": "b" if differs else "a"}}
    monkeypatch.setitem(cli.REPLAYS, "kpis", lambda _settings: cli.Rebuilt("window", {"k": {"x": "a"}}, running, 1, 0.1))
    result = CliRunner().invoke(omnibus, ["replay", "kpis", *args])
    assert result.exit_code == exit_code, result.output
    assert ("DIFFERS" in result.output) is differs
    assert CliRunner().invoke(omnibus, ["replay", "billing", *args]).exit_code == 2


def test_replay_identity_agrees_after_a_split_whose_contact_followed_it(monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """#8 point 7: the running node table holds the contact's record on the split-off customer
    (``graph/split_contacts.py``); replay identity decodes it and still agrees through the split."""
    from processors.identity.graph.state import CustomerState
    from processors.profile.book import ProfileBook
    from processors.replay.identity import recompute
    from tests.processors.identity.support import interaction
    from tests.processors.verify.support import CONTACTS_IN

    inputs = [record(INPUT, "a", observed([("EMAIL", "jonathan@t7.example"), ("PHONE", "+33622222222")],
                                          event_id="e1"), 0),
              record(INPUT, "b", observed([("PHONE", "+33622222222"), ("ACCOUNT", "ACC-7718")], event_id="e2",
                                          minutes=1), 1),
              record(CONTACTS_IN, "visit", interaction([("ACCOUNT", "ACC-7718")], minutes=2), 0)]
    running = recompute(inputs, SETTINGS, settings(), ProfileBook([]))
    account = next(key for key in running.identifiers_of["e2"] if key.startswith("ACCOUNT:"))
    split_events = split_off(running, account)  # then the node table as the running processor holds it
    outputs = replace(outputs_of(running, []), customer_events=split_events)
    new = running.graph.customer_of(account)
    assert new is not None and isinstance(node := running.graph.store.nodes[new], CustomerState)
    assert node.contact_index and any(record.key == new.encode() for record in outputs.changelog)

    def read(_settings: object, _what: str, specs: list[TopicSpec], raw: list[TopicSpec] = ()) -> TopicsReplay:  # type: ignore[assignment]
        if raw:
            return TopicsReplay(outputs.changelog)
        if CUSTOMER_EVENTS in specs:
            return TopicsReplay([*outputs.customer_events, *outputs.assignments])
        return TopicsReplay(inputs)

    monkeypatch.setattr(cli, "read_with_progress", read)
    monkeypatch.setattr(config, "load_identity_settings", settings)
    assert cli.replay("identity", SETTINGS), capsys.readouterr().out
    out = capsys.readouterr().out
    assert ("replayed 1 operator command announced on customer.events: 0 merges, 1 split or unmerge, "
            "0 releases; compared after joining 0 pairs of customers that reviews link") in out
    assert "same: 2, differing: 0" in out
