"""The identity operator commands' ``--reason`` (``cli_common._checked_reason``): scrubbed of identifier values
before it travels in the announcement, the operator told what was masked (tester24 F5). In process, no broker."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from tests.support.references import DECLARED, PRM, SPELLINGS, declared_references

CARD = "4111111111111111"
REASON = f"customer read card {CARD} on the phone, mail jean.dupont@example.fr"
# Every identity command that takes a --reason, with the module whose settings loader it calls first after it.
COMMANDS = {
    "merge": (["identity", "merge", "cus_a", "cus_b"], "processors.identity.merge_cli", "_settings_or_exit"),
    "unmerge": (["identity", "unmerge", "cus_b"], "processors.identity.cli_common", "_settings_or_exit"),
    "split": (["identity", "split", "--customer", "cus_a", "--identifier", "PHONE:+33612345678"],
              "processors.identity.split_cli", "_keyed_settings_or_exit"),
    "move-contact": (["identity", "move-contact", "CALL-1", "--from", "cus_a", "--to", "cus_b"],
                     "processors.identity.release_cli", "_settings_or_exit"),
    "release": (["identity", "release", "PHONE", "+33612345678", "--customer", "cus_a"],
                "processors.identity.release_cli", "_keyed_settings_or_exit"),
    "review accept": (["identity", "review", "accept", "rev-1"], "processors.identity.review_cli",
                      "_settings_or_exit"),
    "review reject": (["identity", "review", "reject", "rev-1"], "processors.identity.review_cli",
                      "_settings_or_exit"),
}


def _stop(*_: object, **__: object) -> None:
    raise typer.Exit(3)  # where the command would read its settings and the topics: the reason is checked by then


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_identity_command_masks_a_card_in_its_reason_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                                       command: str) -> None:
    import importlib

    arguments, module, loader = COMMANDS[command]
    monkeypatch.setattr(importlib.import_module(module), loader, _stop)
    result = CliRunner().invoke(omnibus, [*arguments, "--by", "ops-1", "--reason", REASON])
    assert result.exit_code == 3, (result.output, result.exception)
    assert "note: --reason: masked 1 card number, 1 e-mail address before publishing" in result.stderr, result.stderr
    assert CARD not in result.output and "jean.dupont" not in result.output


def test_a_merge_publishes_the_scrubbed_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _merge_sent(monkeypatch, REASON)
    assert "customer read card [digits] on the phone, mail [email]" in repr(message)
    assert CARD not in repr(message) and "jean.dupont" not in repr(message)


def _merge_sent(monkeypatch: pytest.MonkeyPatch, reason: str) -> object:
    """The graph message ``identity merge cus_a cus_b --reason REASON`` publishes (topics and settings faked)."""
    from processors.identity import merge, merge_cli, rules

    sent: list[object] = []

    async def publish(_settings: object, node: str, message: object) -> None:
        sent.append(message)

    async def nothing_read(_settings: object) -> tuple[dict, dict, set]:
        return {}, {}, set()

    monkeypatch.setattr(merge_cli, "_settings_or_exit", lambda: (None, None))
    monkeypatch.setattr(merge_cli, "_owners_survivors_and_current", nothing_read)
    monkeypatch.setattr(rules, "LinkPolicy", lambda _identity: None)
    monkeypatch.setattr(merge, "merge_plan", lambda first, second, *_: (first, second, []))
    monkeypatch.setattr(merge_cli, "_publish", publish)
    with declared_references(DECLARED):
        result = CliRunner().invoke(omnibus, ["identity", "merge", "cus_a", "cus_b", "--by", "ops-1", "--reason",
                                              reason])
    assert result.exit_code == 0, (result.output, result.exception)
    (message,) = sent
    return message


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_identity_command_keeps_a_declared_reference_in_any_spelling_in_its_reason(
        monkeypatch: pytest.MonkeyPatch, command: str, name: str) -> None:
    """tester26 F8/F11 through every identity command: ``meter_point`` declared, the operator types ``METER-POINT``;
    the note counts only the phone masked beside it (the reference is kept, ``bus.references.declared``)."""
    import importlib

    arguments, module, loader = COMMANDS[command]
    monkeypatch.setattr(importlib.import_module(module), loader, _stop)
    with declared_references(DECLARED):
        result = CliRunner().invoke(omnibus, [*arguments, "--by", "ops-1", "--reason",
                                              f"{name}: {PRM} is hers; she called from 06 12 34 56 78"])
    assert result.exit_code == 3, (result.output, result.exception)
    assert "note: --reason: masked 1 number before publishing" in result.stderr, result.stderr


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_merge_publishes_a_declared_reference_in_any_spelling_whole(monkeypatch: pytest.MonkeyPatch,
                                                                     name: str) -> None:
    sent = _merge_sent(monkeypatch, f"{name}: {PRM} is hers; she called from 06 12 34 56 78")
    assert f"{name}: {PRM} is hers; she called from [digits]" in repr(sent)
