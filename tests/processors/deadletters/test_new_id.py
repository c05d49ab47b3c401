"""``redrive --new-id``: which dead letters it takes, what it refuses and says, and how the command asks who and why."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from bus.config import OmnibusSettings
from bus.errors import RawRecord
from omnibus.cli import app as omnibus
from omnibus.reissues import reissues
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import Operator, redrive_new_id, refusal
from processors.deadletters.redrive import ingress_refusal
from tests.processors.deadletters.test_init import file_line, letter
from tests.support.references import DECLARED, PRM, SPELLINGS, declared_references

SETTINGS = OmnibusSettings()
CONFLICT = b'{"userId": "u-1", "messageId": "m-1", "event": "Invoice Paid", "timestamp": "2026-11-02T08:59:00Z"}'
WEB = (("http.path", b"/v1/track"), ("segment.source", b"portal-web"))


def web_letter(value: bytes = CONFLICT, error_type: str = "RejectedInput.id_conflict", component: str = "adapter.web",
               headers: tuple[tuple[str, bytes], ...] = WEB) -> DeadLetter:
    return letter(RawRecord(value=value, headers=headers), error_type=error_type, component=component)


def test_an_id_conflict_is_refused_by_plain_redrive_with_a_pointer_to_new_id() -> None:
    """tester25 F3: the refusal said only "the sender must send it again", which a Segment SDK never does."""
    assert "redrive --new-id --by NAME --why TEXT" in ingress_refusal(web_letter())


def test_new_id_takes_only_web_messages_refused_for_their_id() -> None:
    known = reissues(SETTINGS)
    assert refusal(web_letter(), known) is None
    assert refusal(web_letter(error_type="RejectedInput.request_id_conflict"), known) is None
    content = refusal(web_letter(error_type="RejectedInput.missing_event"), known)
    assert content is not None and "for its content" in content and "RejectedInput.id_conflict" in content
    counter = refusal(web_letter(component="adapter.branch"), known)
    assert counter is not None and "adapter.web only" in counter and "adapter.branch" in counter
    read = letter(RawRecord(value=b"x", topic="p.identity.observed.v1", partition=0, offset=1),
                  error_type="DeserializationError", component="identity")
    topic = refusal(read, known)
    assert topic is not None and "without --new-id" in topic
    line = refusal(file_line(), known)
    assert line is not None and "import-batch" in line


def test_a_dry_run_names_the_new_id_and_the_topics_and_a_refused_one_says_why() -> None:
    good, bad = web_letter(), web_letter(value=b'{"userId": "u-1", "event": "x"}')
    outcomes = asyncio.run(redrive_new_id(SETTINGS, [good, bad], reissues(SETTINGS),
                                          Operator("ops-1", "portal bug"), dry_run=True, check_done=False))
    assert [o.action for o in outcomes] == ["would_redrive", "refused"]
    at = outcomes[0].at
    assert at is not None and "contact.events.v1" in at and "as messageId m-1:" in at
    assert outcomes[1].reason is not None and "messageId" in outcomes[1].reason


def test_the_command_asks_who_and_why_before_reading_anything() -> None:
    runner = CliRunner()
    no_who = runner.invoke(omnibus, ["deadletters", "redrive", "some-id", "--new-id", "--why", "portal bug"])
    assert no_who.exit_code == 2 and "--new-id needs --by NAME and --why TEXT" in no_who.stderr
    empty = runner.invoke(omnibus, ["deadletters", "redrive", "some-id", "--new-id", "--by", " ", "--why", "x"])
    assert empty.exit_code == 2
    plain = runner.invoke(omnibus, ["deadletters", "redrive", "some-id", "--by", "ops-1"])
    assert plain.exit_code == 2 and "needs --by NAME and --why TEXT" in plain.stderr  # tester29 F5: --by goes
    # with --new-id or a re-drive of a sealed body, never alone


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_declared_reference_in_any_spelling_of_its_name_is_kept_in_the_why(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """tester26 F8/F11 through ``redrive --new-id --why`` (``cli._operator``): ``meter_point`` declared, the operator
    types ``meterPoint=...``; the reason recorded on each record it publishes keeps it, the phone beside it masked."""
    from processors.deadletters.cli import _operator

    with declared_references(DECLARED):
        operator = _operator("ops-1", f"portal bug; {name}={PRM} per the customer on 06 12 34 56 78")
    assert operator == Operator("ops-1", f"portal bug; {name}={PRM} per the customer on [digits]")
    assert "note: --why: masked 1 number before publishing" in capsys.readouterr().err


def test_a_masked_clear_copy_is_re_issued_from_its_sealed_body_and_refused_without_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The clear copy has the message's phone and e-mail masked; ``--new-id`` maps the message as it came, from
    its sealed body, never the masked copy (which would publish ``*****3456`` as a phone)."""
    from bus.dead_letter import SEAL_KEY_ID_HEADER, SEALED_BODY_HEADER
    from bus.dead_letter_clear import CLEAR_COPY_HEADER, MASKED
    from bus.sealing import Sealer

    key = "seal-key-for-the-tests-0123456789abcdef"
    monkeypatch.setenv("OMNIBUS_DEAD_LETTERS__SEAL_KEY", key)
    sealer, keyed = Sealer(key), OmnibusSettings(dead_letters={"seal_key": key})  # type: ignore[arg-type]
    sent = b'{"userId": "u-1", "messageId": "m-1", "event": "Invoice Paid", "timestamp": "2026-11-02T08:59:00Z", ' \
           b'"context": {"traits": {"phone": "+34677123456"}}}'
    masked = sent.replace(b"+34677123456", b"+34*****3456")
    sealed = web_letter(value=masked, headers=(*WEB, (CLEAR_COPY_HEADER, MASKED), (
        SEALED_BODY_HEADER, sealer.seal(sent, "adapter.web")), (SEAL_KEY_ID_HEADER, sealer.key_id.encode())))
    unsealed = web_letter(value=masked, headers=(*WEB, (CLEAR_COPY_HEADER, MASKED)))
    outcomes = asyncio.run(redrive_new_id(keyed, [sealed, unsealed], reissues(keyed),
                                          Operator("ops-1", "portal bug"), dry_run=True, check_done=False))
    assert [o.action for o in outcomes] == ["would_redrive", "refused"]
    assert "identifiers masked" in (outcomes[1].reason or "") and "send it again" in (outcomes[1].reason or "")
