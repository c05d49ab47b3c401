"""``omnibus replay``'s printing: what ``replay identity`` shows of identifiers is masked, as ``verify`` masks them."""

from __future__ import annotations

import pytest

from bus.topics import TopicSpec
from processors.replay import TopicsReplay, cli
from processors.replay.compare import compare
from tests.processors.identity.support import HMAC_KEY, observed
from tests.processors.verify.support import INPUT, SETTINGS, record


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
    assert "EMAIL:j***@t7.example: only in the rebuilt state" in out
    assert "jsmyth" not in out and "22222222" not in out
