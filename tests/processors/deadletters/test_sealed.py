"""Re-submitting a body refused at an adapter's HTTP ingress from its sealed copy (tester29 F5): the refusals, the
corrections, and each adapter's re-mapping through its own mapper (the composition's ``Resubmit``s)."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bus.config import OmnibusSettings
from bus.dead_letter import SEAL_KEY_ID_HEADER, SEALED_BODY_HEADER
from bus.errors import RawRecord
from bus.sealing import Sealer
from processors.deadletters import SEALED, DeadLetter, original
from processors.deadletters.new_id import Operator
from processors.deadletters.sealed import (
    NotResubmitted,
    Resubmit,
    corrected,
    parse_corrections,
    redrive_sealed,
    refusal,
)
from tests.processors.deadletters.test_init import letter

KEY = "seal-key-for-the-tests-0123456789abcdef"
SEALER = Sealer(KEY)
SETTINGS = OmnibusSettings(dead_letters={"seal_key": KEY})  # type: ignore[arg-type]
AT = datetime(2026, 12, 3, 9, 50, tzinfo=UTC)
CTR_PATH = (("http.path", b"/v1/connect/ctr"), ("call_center.site", b"madrid"))


def sealed_letter(body: bytes, component: str, context: tuple[tuple[str, bytes], ...], *,
                  sealer: Sealer = SEALER, error_type: str = "RejectedInput.malformed_field") -> DeadLetter:
    """A dead letter as ``DeadLetterWriter`` writes it with a sealer: the context headers, the sealed body."""
    headers = (*context, (SEALED_BODY_HEADER, sealer.seal(body, component)),
               (SEAL_KEY_ID_HEADER, sealer.key_id.encode()))
    return letter(RawRecord(value=body, headers=headers), error_type=error_type, component=component, at=AT)


def test_a_letter_without_a_seal_without_a_key_or_under_another_key_says_why() -> None:
    unsealed = letter(RawRecord(value=b"{}", headers=CTR_PATH), component="adapter.call_center")
    resubmits = {"adapter.call_center": Resubmit(lambda *_: ())}
    no_seal = refusal(unsealed, SEALER, resubmits)
    assert no_seal is not None and "not kept sealed" in no_seal and "OMNIBUS_DEAD_LETTERS__SEAL_KEY" in no_seal
    sealed = sealed_letter(b"{}", "adapter.call_center", CTR_PATH)
    no_key = refusal(sealed, None, resubmits)
    assert no_key is not None and "is not set here" in no_key
    other = refusal(sealed, Sealer("another-key-" + "x" * 30), resubmits)
    assert other is not None and f"key id {SEALER.key_id}" in other
    assert "no re-submission" in (refusal(sealed, SEALER, {}) or "")
    assert refusal(sealed, SEALER, resubmits) is None


def test_corrections_set_dotted_fields_json_or_text() -> None:
    found = parse_corrections(["DisconnectTimestamp=2026-12-03T09:44:00Z", "CustomerEndpoint.Address=+34612345678",
                               "Attributes.count=3", 'Queue={"Name": "tarjetas"}'])
    assert found == {"DisconnectTimestamp": "2026-12-03T09:44:00Z", "CustomerEndpoint.Address": "+34612345678",
                     "Attributes.count": 3, "Queue": {"Name": "tarjetas"}}
    body = json.loads(corrected(b'{"DisconnectTimestamp": "2026-12-03 09:44", "CustomerEndpoint": {"Type": "T"}}',
                                found))
    assert body["DisconnectTimestamp"] == "2026-12-03T09:44:00Z" and body["CustomerEndpoint"]["Address"] == \
        "+34612345678" and body["Queue"] == {"Name": "tarjetas"} and body["Attributes"] == {"count": 3}
    assert corrected(b"line,of,cdr", {}) == b"line,of,cdr"
    with pytest.raises(NotResubmitted, match="JSON or form body"):
        corrected(b"line,of,cdr", {"a": 1})
    with pytest.raises(NotResubmitted, match="a.b is no object"):
        corrected(b'{"a": {"b": 1}}', {"a.b.c": 1})
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        parse_corrections(["DisconnectTimestamp"])


def test_show_never_prints_the_sealed_body() -> None:
    from processors.deadletters import deserializer_for

    shown = original(sealed_letter(b'{"dni": "12345678Z"}', "adapter.web", ()), deserializer_for(SETTINGS),
                     reveal=True)
    assert shown["headers"][SEALED_BODY_HEADER].startswith(SEALED.split("%")[0]) and "12345678Z" not in json.dumps(
        shown["headers"])


# -- each adapter's re-mapping, through the composition (omnibus.resubmits) ------------------------------------------

SITE_ENV = {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps({"madrid": {
    "access_keys": ["madrid-firehose-key-1"], "timezone": "Europe/Madrid", "phone_region": "ES"}})}


def ctr(disconnect: str) -> dict[str, Any]:
    from tests.adapters.call_center.support import sample

    record = copy.deepcopy(sample("ctr_inbound_answered.json"))
    record["DisconnectTimestamp"] = disconnect
    record["CustomerEndpoint"]["Address"] = "+34612345678"
    return record


def dry_run(letters: list[DeadLetter], corrections: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
            env: dict[str, str] | None = None) -> list[Any]:
    from omnibus.resubmits import resubmits

    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    return asyncio.run(redrive_sealed(SETTINGS, letters, resubmits(SETTINGS), Operator("ops-7", "Firehose never "
                                      "re-sends"), corrections=corrections, dry_run=True, check_done=False))


def test_tester29_f5_a_ctr_refused_for_its_disconnect_time_is_re_driven_corrected(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tester29 F5: a CTR posted by Firehose with ``DisconnectTimestamp`` ``2026-12-03 09:44`` (no offset) was refused,
    its dead letter held the caller's number only as ``[digits]``, and redrive said the sender must send it again
    (Firehose never does). Sealed, it opens, ``--set DisconnectTimestamp=...`` corrects it, and the call center's own
    CTR mapper maps it for the site the dead letter names; left uncorrected, it is refused again with the reason."""
    bad = sealed_letter(json.dumps(ctr("2026-12-03 09:44")).encode(), "adapter.call_center", CTR_PATH)
    (refused,) = dry_run([bad], {}, monkeypatch, SITE_ENV)
    assert refused.action == "refused" and "refuses it again" in refused.reason and "DisconnectTimestamp" in \
        refused.reason and "--set" in refused.reason
    (outcome,) = dry_run([bad], {"DisconnectTimestamp": "2026-12-03T09:44:00+01:00"}, monkeypatch, SITE_ENV)
    assert outcome.action == "would_redrive", outcome.reason
    assert "contact.events.v1" in outcome.at and "identity.observed.v1" in outcome.at


def test_the_kind_every_http_ingress_re_maps_its_own_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    """One mechanism for all: the web hall (its source), the call center's CTR, Asterisk and TaskRouter paths (its
    site), the branch counter (its terminal and branch), each through its own mapper."""
    from tests.adapters.branch.support import TOKENS
    from tests.adapters.call_center.support import LYON_KEY, LYON_TWILIO_TOKEN, LYON_WORKSPACE
    from tests.adapters.call_center.support import sample as call_sample

    monkeypatch.setenv("OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS", json.dumps(TOKENS))
    monkeypatch.setenv("OMNIBUS_ADAPTER_WEB__WRITE_KEYS", json.dumps({"portal-web": "wk-portal-web-3f9a"}))
    monkeypatch.setenv("OMNIBUS_ADAPTER_CALL_CENTER__SITES", json.dumps({"lyon": {
        "access_keys": [LYON_KEY], "twilio_workspace_sids": [LYON_WORKSPACE], "twilio_auth_token": LYON_TWILIO_TOKEN,
        "phone_region": "FR"}}))
    web = sealed_letter(json.dumps({"type": "track", "messageId": "m-9", "userId": "u-9", "event": "Invoice Paid",
                                    "timestamp": "2026-12-03T09:00:00Z"}).encode(), "adapter.web",
                        (("http.path", b"/v1/track"), ("segment.source", b"portal-web")))
    counter = sealed_letter(json.dumps({"event_id": "e-9", "kind": "ticket_called", "occurred_at":
                                        "2026-12-03T09:00:00+01:00", "ticket": {"number": "A042", "service_type":
                                        "payments", "issued_at": "2026-12-03T08:50:00+01:00", "counter_id": "C3"},
                                        "identifiers": [{"type": "PHONE", "value": "+33612345678"}]}).encode(),
                            "adapter.branch", (("http.path", b"/v1/counter/events"),
                                               ("branch.terminal_id", b"CT-0142-01"), ("branch.branch_id", b"0142")))
    cdr = sealed_letter(call_sample("master.csv").splitlines()[0].encode(), "adapter.call_center",
                        (("http.path", b"/v1/asterisk/cdr"), ("call_center.site", b"lyon")))
    from urllib.parse import urlencode

    task = dict(call_sample("taskrouter_answered.json")[-1])
    task["WorkspaceSid"] = LYON_WORKSPACE
    taskrouter = sealed_letter(urlencode(task).encode(), "adapter.call_center",
                               (("http.path", b"/v1/twilio/taskrouter"), ("call_center.site", b"lyon")))
    lost = sealed_letter(b'{"type": "track"}', "adapter.web", (("http.path", b"/v1/track"),))
    outcomes = dry_run([web, counter, cdr, taskrouter, lost], {}, monkeypatch)
    assert [o.action for o in outcomes] == ["would_redrive"] * 4 + ["refused"], [o.reason for o in outcomes]
    assert "no write key's source" in (outcomes[-1].reason or "")


def test_a_message_refused_only_for_its_id_is_pointed_to_new_id_sealed_or_not() -> None:
    resubmits = {"adapter.web": Resubmit(lambda *_: ())}
    web = (("http.path", b"/v1/track"), ("segment.source", b"portal-web"))
    for conflict in (sealed_letter(b"{}", "adapter.web", web, error_type="RejectedInput.id_conflict"),
                     letter(RawRecord(value=b"{}", headers=web), error_type="RejectedInput.request_id_conflict")):
        reason = refusal(conflict, SEALER, resubmits)
        assert reason is not None and "redrive --new-id" in reason


def test_tester31_f8_a_taskrouter_callback_refused_for_its_attributes_is_re_driven_corrected(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tester31 F8: a signed TaskRouter callback whose ``TaskAttributes`` was no JSON (a Flex plugin bug) was refused;
    ``--set`` answered that it needs a JSON body (a callback is a form) and re-driving as is was refused again: the two
    messages sent the operator in a circle, and Twilio never sends a refused callback again. ``--set`` now sets a form
    field, or a field inside a form field's JSON object."""
    from urllib.parse import parse_qsl, urlencode

    from tests.adapters.call_center.support import LYON_KEY, LYON_TWILIO_TOKEN, LYON_WORKSPACE
    from tests.adapters.call_center.support import sample as call_sample

    env = {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps({"lyon": {
        "access_keys": [LYON_KEY], "twilio_workspace_sids": [LYON_WORKSPACE], "twilio_auth_token": LYON_TWILIO_TOKEN,
        "phone_region": "FR"}})}
    task = dict(call_sample("taskrouter_answered.json")[-1])
    task["WorkspaceSid"] = LYON_WORKSPACE
    good_attributes = task["TaskAttributes"]
    task["TaskAttributes"] = good_attributes[:-1]  # cut short: no JSON
    bad = sealed_letter(urlencode(task).encode(), "adapter.call_center",
                        (("http.path", b"/v1/twilio/taskrouter"), ("call_center.site", b"lyon")))
    (refused,) = dry_run([bad], {}, monkeypatch, env)
    assert refused.action == "refused" and "TaskAttributes" in refused.reason, refused.reason
    (outcome,) = dry_run([bad], {"TaskAttributes": json.loads(good_attributes)}, monkeypatch, env)
    assert outcome.action == "would_redrive", outcome.reason
    # A field inside the form field's JSON object, the form's other fields as they were.
    fixed = corrected(urlencode({**task, "TaskAttributes": good_attributes}).encode(), {"TaskAttributes.queue": "x"})
    fields = dict(parse_qsl(fixed.decode()))
    assert json.loads(fields["TaskAttributes"]) == {**json.loads(good_attributes), "queue": "x"}
    assert {name: value for name, value in fields.items() if name != "TaskAttributes"} == {
        name: value for name, value in task.items() if name != "TaskAttributes"}
    with pytest.raises(NotResubmitted, match="form field TaskSid holds no JSON object"):
        corrected(fixed, {"TaskSid.inner": 1})


def test_unset_takes_a_field_out_of_a_json_body_or_a_form() -> None:
    """``--set`` could not remove a field (only its parent object set whole): ``--unset FIELD`` takes it out."""
    from processors.deadletters.sealed import REMOVED

    found = parse_corrections(["customer.family_name=Nowicka"], ["customer.pesel", "note"])
    assert found == {"customer.family_name": "Nowicka", "customer.pesel": REMOVED, "note": REMOVED}
    body = json.loads(corrected(b'{"note": "x", "customer": {"given_name": "Ola", "pesel": "75030512346"}}', found))
    assert body == {"customer": {"given_name": "Ola", "family_name": "Nowicka"}}
    form = corrected(b"TaskSid=WT1&Extra=1&TaskAttributes=%7B%22pesel%22%3A+%221%22%2C+%22k%22%3A+2%7D",
                     parse_corrections([], ["Extra", "TaskAttributes.pesel"]))
    assert dict(parse_qsl(form.decode())) == {"TaskSid": "WT1", "TaskAttributes": '{"k": 2}'}
    with pytest.raises(NotResubmitted, match="--unset customer.pesl: the body has no such field"):
        corrected(b'{"customer": {"pesel": "1"}}', parse_corrections([], ["customer.pesl"]))
    with pytest.raises(NotResubmitted, match="--unset Extra: the form has no such field"):
        corrected(b"TaskSid=WT1", parse_corrections([], ["Extra"]))
    with pytest.raises(ValueError, match="one or the other"):
        parse_corrections(["a=1"], ["a"])
    with pytest.raises(ValueError, match="expected FIELD"):
        parse_corrections([], ["a=1"])


def test_a_counter_event_refused_for_a_field_too_many_is_re_driven_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter's commonest refusal, an undeclared field (``unknown_field``: a clerk's ``customer.pesel``), is
    corrected by taking the field out."""
    from tests.adapters.branch.support import TOKENS
    from tests.adapters.branch.support import sample as branch_sample

    event = copy.deepcopy(branch_sample("transaction_with_identifiers")["events"][0])
    event["customer"] = {**(event.get("customer") or {}), "pesel": "75030512346"}
    bad = sealed_letter(json.dumps(event).encode(), "adapter.branch",
                        (("http.path", b"/v1/counter/events"), ("branch.terminal_id", b"CT-0142-01"),
                         ("branch.branch_id", b"0142")), error_type="RejectedInput.unknown_field")
    env = {"OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps(TOKENS)}
    (refused,) = dry_run([bad], {}, monkeypatch, env)
    assert refused.action == "refused" and "customer.pesel" in refused.reason, refused
    (outcome,) = dry_run([bad], parse_corrections([], ["customer.pesel"]), monkeypatch, env)
    assert outcome.action == "would_redrive", outcome.reason


def test_reveal_shows_the_body_as_it_came_and_says_when_only_the_clear_copy_is_there() -> None:
    """The clear copy has its identifiers masked; ``show --reveal`` opens the sealed body where the key is, and
    says why it shows the clear copy where it cannot (no key here, no seal kept); a dead letter of an older release,
    which carried the value as sent, is shown as it is."""
    from bus.dead_letter_clear import CLEAR_COPY_HEADER, MASKED
    from processors.deadletters.sealed import revealed, value_as_sent

    sent = b'{"phone": "+34677123456"}'
    masked = (CLEAR_COPY_HEADER, MASKED)
    sealed = sealed_letter(sent, "adapter.web", (masked,))
    sealed.fields["value"] = b'{"phone": "+34*****3456"}'
    shown, why = revealed(sealed, SEALER)
    assert shown.fields["value"] == sent and why is None
    shown, why = revealed(sealed, None)
    assert shown is sealed and why is not None and "is not set here" in why
    unsealed = letter(RawRecord(value=b'{"phone": "+34*****3456"}', headers=(masked,)))
    assert "not kept sealed" in (revealed(unsealed, SEALER)[1] or "")
    older = letter(RawRecord(value=sent))
    assert revealed(older, SEALER) == (older, None) and value_as_sent(older, None) == sent



def test_reveal_of_a_file_line_says_the_line_is_in_its_file_not_that_a_key_was_missing() -> None:
    """Reported: ``show --reveal`` of a line ``import-batch`` refused said it was refused where the seal key was not
    set and that the sender must send it again; a file's line is never sealed (the key was set), and is corrected in
    its file."""
    from bus.dead_letter_clear import CLEAR_COPY_HEADER, MASKED
    from processors.deadletters.sealed import revealed
    from tests.processors.deadletters.test_init import file_line

    line = file_line(**{CLEAR_COPY_HEADER: MASKED})
    shown, why = revealed(line, SEALER)
    assert shown is line and why is not None
    assert "never kept sealed" in why and "accounts_2026-12-01.csv line 9" in why and "is not set" not in why
