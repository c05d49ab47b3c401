"""Re-driving a refused handoff request (a Polish telecom's TaskRouter task whose handoff attributes were
refused): the call or transaction was published without the handoff, the request dead-lettered with the sealed body;
``redrive`` maps the body again with the current settings and publishes the handoff only when it opens this time,
else it is refused again with the reason (it used to answer ``would_redrive`` and publish the call without the
handoff: the customer's request was lost a second time, silently)."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from bus.dead_letter import SEAL_KEY_ID_HEADER, SEALED_BODY_HEADER, part_refused_reason
from bus.errors import RawRecord
from processors.deadletters import DeadLetter
from tests.processors.deadletters.test_init import letter
from tests.processors.deadletters.test_sealed import AT, SEALER, dry_run

HANDOFF_TOPIC = "omnibus.handoff.events.v1"


def part_letter(body: bytes, component: str, context: tuple[tuple[str, bytes], ...], why: str,
                code: str = "missing_field", part: str = "handoff") -> DeadLetter:
    """The dead letter ``reject_part`` writes for a refused handoff (or another ``part``), with the sealed body."""
    headers = (*context, (SEALED_BODY_HEADER, SEALER.seal(body, component)),
               (SEAL_KEY_ID_HEADER, SEALER.key_id.encode()))
    return letter(RawRecord(value=body, headers=headers), reason=part_refused_reason(part, why),
                  error_type=f"RejectedInput.{code}", component=component, at=AT)


def call_center_env() -> dict[str, str]:
    from tests.adapters.call_center.support import LYON_KEY, LYON_TWILIO_TOKEN, LYON_WORKSPACE

    return {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps({"lyon": {
        "access_keys": [LYON_KEY], "twilio_workspace_sids": [LYON_WORKSPACE], "twilio_auth_token": LYON_TWILIO_TOKEN,
        "phone_region": "FR"}})}


def task_letter(attributes: dict[str, Any]) -> DeadLetter:
    from tests.adapters.call_center.support import LYON_WORKSPACE
    from tests.adapters.call_center.support import sample as call_sample

    task = dict(call_sample("taskrouter_answered.json")[-1])
    task["WorkspaceSid"] = LYON_WORKSPACE
    task["TaskAttributes"] = json.dumps({**json.loads(task["TaskAttributes"]), **attributes})
    return part_letter(urlencode(task).encode(), "adapter.call_center",
                       (("http.path", b"/v1/twilio/taskrouter"), ("call_center.site", b"lyon")),
                       "twilio-taskrouter: 'TaskAttributes.omnibus_handoff_kind' is required to open a handoff")


def test_redrive36_a_refused_taskrouter_handoff_is_re_driven_once_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tester's case: a task whose agent form gave the summary and team but no kind. Re-driven as it is, it is
    refused again with the reason (not published without its handoff); ``--set TaskAttributes.omnibus_handoff_kind``
    opens the handoff, under the id the call would have given it (the same on every re-drive: one case)."""
    bad = task_letter({"omnibus_handoff_team": "repair", "omnibus_handoff_summary": "Brak sygnału od burzy"})
    (refused,) = dry_run([bad], {}, monkeypatch, call_center_env())
    assert refused.action == "refused", refused
    assert "handoff" in refused.reason and "omnibus_handoff_kind" in refused.reason and "--set" in refused.reason
    fix = {"TaskAttributes.omnibus_handoff_kind": "line-repair"}
    (outcome,) = dry_run([bad], fix, monkeypatch, call_center_env())
    assert outcome.action == "would_redrive", outcome.reason
    assert HANDOFF_TOPIC in outcome.at


def test_a_refused_ctr_handoff_is_re_driven_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.adapters.call_center.support import sample

    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "omnibus_handoff_kind": 7}
    bad = part_letter(json.dumps(ctr).encode(), "adapter.call_center",
                      (("http.path", b"/v1/connect/ctr"), ("call_center.site", b"lyon")),
                      "amazon-connect: 'Attributes.omnibus_handoff_kind' must be text, got int", "malformed_field")
    (refused,) = dry_run([bad], {}, monkeypatch, call_center_env())
    assert refused.action == "refused" and "omnibus_handoff_kind" in refused.reason, refused
    (outcome,) = dry_run([bad], {"Attributes.omnibus_handoff_kind": "meter-dispute"}, monkeypatch, call_center_env())
    assert outcome.action == "would_redrive" and HANDOFF_TOPIC in outcome.at, outcome


def test_a_refused_counter_handoff_is_re_driven_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    bad, env = counter_part_letter()
    (refused,) = dry_run([bad], {}, monkeypatch, env)
    assert refused.action == "refused" and "transaction.handoff.kind" in refused.reason, refused
    (outcome,) = dry_run([bad], {"transaction.handoff.kind": "meter-dispute"}, monkeypatch, env)
    assert outcome.action == "would_redrive" and HANDOFF_TOPIC in outcome.at, outcome


def test_a_record_refused_whole_is_re_driven_though_an_unrelated_part_stays_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the part the dead letter is about must open: a task refused for its timestamps whose offer answer is
    refused (the part has a dead letter of its own) still goes, as before."""
    from tests.adapters.call_center.support import LYON_WORKSPACE
    from tests.adapters.call_center.support import sample as call_sample
    from tests.processors.deadletters.test_sealed import sealed_letter

    task = dict(call_sample("taskrouter_answered.json")[-1])
    task["WorkspaceSid"] = LYON_WORKSPACE
    task["TaskAttributes"] = json.dumps({**json.loads(task["TaskAttributes"]), "omnibus_handoff_summary": "no kind"})
    whole = sealed_letter(urlencode(task).encode(), "adapter.call_center",
                          (("http.path", b"/v1/twilio/taskrouter"), ("call_center.site", b"lyon")))
    (outcome,) = dry_run([whole], {}, monkeypatch, call_center_env())
    assert outcome.action == "would_redrive", outcome.reason


def test_a_request_that_cannot_be_re_driven_points_to_open_case() -> None:
    """A body refused before the seal key was set, and a legacy outbox or poller row refused then (read from a
    database, not a topic, and never an HTTP body), are refused by ``redrive`` with the way out: ``open-case``."""
    from processors.deadletters.sealed import refusal

    unsealed = letter(RawRecord(value=b"{}", headers=(("http.path", b"/v1/twilio/taskrouter"),)),
                      reason=part_refused_reason("handoff", "no kind"), component="adapter.call_center")
    row = letter(RawRecord(value=b"{}", headers=(("outbox.table", b"outbox"), ("outbox.id", b"42"))),
                 reason="HandoffCreated: case_type is required", component="adapter.legacy")
    for dead in (unsealed, row):
        reason = refusal(dead, SEALER, {})
        assert reason is not None and "omnibus deadletters open-case ID --kind KIND" in reason, reason
    legacy_reason = refusal(row, SEALER, {}) or ""
    assert "outbox relay or a poller" in legacy_reason and "not kept sealed" in legacy_reason
    assert "HTTP" not in legacy_reason


def test_a_legacy_handoff_row_without_its_case_type_is_re_driven_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The legacy kind of the same loss: an outbox row ``HandoffCreated`` without its ``case_type`` was refused and its
    row kept sealed. Re-driven as it is it is refused again with the reason; with ``--set payload.case_type`` it
    opens the case on the handoff topic, under the handoff id the row gives it."""
    from tests.processors.deadletters.test_sealed import sealed_letter

    row = {"id": 4201, "aggregate_type": "account", "aggregate_id": "ACC-100234", "event_type": "HandoffCreated",
           "payload": {"summary": "Meter reads twice", "phone": "+33612345678"},
           "created_at": "2026-12-03T09:40:00+00:00"}
    sealed = sealed_letter(json.dumps(row).encode(), "adapter.legacy",
                           (("outbox.table", b"omnibus_outbox"), ("outbox.id", b"4201")),
                           error_type="RejectedInput.missing_field")
    (refused,) = dry_run([sealed], {}, monkeypatch)
    assert refused.action == "refused" and "case_type" in refused.reason, refused
    assert "legacy adapter refuses it again" in refused.reason and "612345678" not in refused.reason
    (outcome,) = dry_run([sealed], {"payload.case_type": "meter-dispute"}, monkeypatch)
    assert outcome.action == "would_redrive" and HANDOFF_TOPIC in outcome.at, outcome


def test_a_refused_web_service_request_is_re_driven_corrected_and_opens_its_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The web hall opens a handoff from a whole track (a service request without a kind takes the default kind, so
    it has no refused handoff part): refused whole, it is re-driven corrected and opens its case."""
    from tests.processors.deadletters.test_sealed import sealed_letter

    track = {"type": "track", "messageId": "sr-36", "userId": "portal-ola", "event": "Service Request Submitted",
             "timestamp": "wczoraj", "properties": {"request_id": "REQ-36", "case_type": "line-repair",
                                                    "summary": "Brak sygnału"}}
    bad = sealed_letter(json.dumps(track).encode(), "adapter.web",
                        (("http.path", b"/v1/track"), ("segment.source", b"portal-web")))
    env = {"OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal-web": "wk-portal-web-3f9a"})}
    (refused,) = dry_run([bad], {}, monkeypatch, env)
    assert refused.action == "refused" and "timestamp" in refused.reason, refused
    (outcome,) = dry_run([bad], {"timestamp": "2026-12-03T09:00:00Z"}, monkeypatch, env)
    assert outcome.action == "would_redrive" and HANDOFF_TOPIC in outcome.at, outcome


def counter_part_letter() -> tuple[DeadLetter, dict[str, str]]:
    """A counter visit published without its handoff (the clerk left the kind out), and the branch adapter's env."""
    from tests.adapters.branch.support import TOKENS
    from tests.adapters.branch.support import sample as branch_sample

    event = copy.deepcopy(branch_sample("transaction_with_identifiers")["events"][0])
    event["transaction"]["handoff"] = {"summary": "Cambio de SIM pendiente"}
    bad = part_letter(json.dumps(event).encode(), "adapter.branch",
                      (("http.path", b"/v1/counter/events"), ("branch.terminal_id", b"CT-0142-01"),
                       ("branch.branch_id", b"0142")),
                      "'transaction.handoff.kind' is required to open a handoff")
    return bad, {"OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps(TOKENS)}


def as_published(bad: DeadLetter, component: str) -> tuple[Any, ...]:
    """The events the adapter published when it refused the part: the body as it came, mapped without the part."""
    from omnibus.resubmits import resubmits
    from processors.deadletters.sealed import sealed_body
    from tests.processors.deadletters.test_sealed import SETTINGS

    sealed = sealed_body(bad)
    assert sealed is not None
    context = {h["key"]: bytes(h["value"]).decode() for h in bad.fields["headers"] if not h["key"].startswith(
        "omnibus-seal")}
    return resubmits(SETTINGS)[component].resubmit(SEALER.open(sealed[0], component), context, AT, None)


def re_driven(bad: DeadLetter, component: str, corrections: dict[str, Any]) -> tuple[Any, ...]:
    from omnibus.resubmits import resubmits
    from processors.deadletters.sealed import resubmitted
    from tests.processors.deadletters.test_sealed import SETTINGS

    return resubmitted(bad, SEALER, resubmits(SETTINGS)[component], corrections)


def test_a_counter_visits_refused_handoff_re_driven_publishes_the_handoff_alone_naming_the_published_visit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The visit went through when its handoff was refused. Re-driven with ``--set transaction.handoff.kind``, the
    correction changed the content its event ids derive from, and the visit was published again under new ids with
    the other outcome (HANDED_OFF beside RESOLVED): a CRM deduping on event id counted two visits. Now only the
    handoff goes, and it names the visit that was published (one correlation, the same transaction)."""
    bad, env = counter_part_letter()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    published = as_published(bad, "adapter.branch")
    assert HANDOFF_TOPIC not in {e.topic for e in published} and len(published) >= 2
    events = re_driven(bad, "adapter.branch", {"transaction.handoff.kind": "sim-swap"})
    assert [(e.topic, e.event.schema) for e in events] == [(HANDOFF_TOPIC, "omnibus.handoff.HandoffCreated")]
    (handoff,) = events
    visit = {e.event.value["envelope"]["correlation_id"] for e in published}
    assert {handoff.event.value["envelope"]["correlation_id"]} == visit
    assert handoff.event.value["case_type"] == "sim-swap"
    # the same handoff id and event at every re-drive, whatever the correction: one case
    again = re_driven(bad, "adapter.branch", {"transaction.handoff.kind": "sim-swap", "transaction.status": "failed"})
    assert [e.event.value["envelope"]["event_id"] for e in again] == [handoff.event.value["envelope"]["event_id"]]
    (outcome,) = dry_run([bad], {"transaction.handoff.kind": "sim-swap"}, monkeypatch, env)
    assert outcome.action == "would_redrive" and outcome.at.startswith(f"{HANDOFF_TOPIC} (1 event: the handoff "
                                                                         "only"), outcome


def test_every_adapters_refused_part_re_driven_goes_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kind, at the call center too: a CTR's and a TaskRouter task's refused handoff re-driven publish the
    handoff, not the call, the contact and the identifiers again (under the same ids, a subscriber that does not
    dedupe got them twice, and the answer counted 4 events where one was new)."""
    from tests.adapters.call_center.support import sample

    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "omnibus_handoff_summary": "Sin línea"}
    bad_ctr = part_letter(json.dumps(ctr).encode(), "adapter.call_center",
                          (("http.path", b"/v1/connect/ctr"), ("call_center.site", b"lyon")),
                          "amazon-connect: 'Attributes.omnibus_handoff_kind' is required to open a handoff")
    bad_task = task_letter({"omnibus_handoff_team": "repair", "omnibus_handoff_summary": "Brak sygnału"})
    for name, value in call_center_env().items():
        monkeypatch.setenv(name, value)
    for bad, fix in ((bad_ctr, {"Attributes.omnibus_handoff_kind": "line-repair"}),
                     (bad_task, {"TaskAttributes.omnibus_handoff_kind": "line-repair"})):
        events = re_driven(bad, "adapter.call_center", fix)
        assert [e.event.schema for e in events] == ["omnibus.handoff.HandoffCreated"], events
        published = {e.event.value["envelope"]["event_id"] for e in as_published(bad, "adapter.call_center")}
        assert published and not published & {e.event.value["envelope"]["event_id"] for e in events}


def test_a_record_refused_whole_is_re_driven_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of a record refused whole was published: every event of it goes."""
    from tests.processors.deadletters.test_sealed import CTR_PATH, SITE_ENV, ctr, sealed_letter

    bad = sealed_letter(json.dumps(ctr("2026-12-03 09:44")).encode(), "adapter.call_center", CTR_PATH)
    for name, value in SITE_ENV.items():
        monkeypatch.setenv(name, value)
    events = re_driven(bad, "adapter.call_center", {"DisconnectTimestamp": "2026-12-03T09:44:00+01:00"})
    assert {e.topic for e in events} >= {"omnibus.contact.events.v1", "omnibus.identity.observed.v1"}


def test_a_visits_handoff_and_follow_up_both_refused_re_driven_twice_are_one_case_and_one_follow_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A counter visit whose ``handoff`` and ``follow_up`` were both refused left two dead letters of one body, both
    reasons starting ``handoff refused`` (as an adapter before the follow-up was a part of its own wrote them; the
    follow-up's reason names its field, so it is read as the follow-up). The handoff's letter re-driven with its own
    correction publishes the handoff alone (the follow-up has its letter); corrected in both, each letter's re-drive
    publishes the handoff and the follow-up, the second under the same event ids as the first (they derive from the
    published visit), so the tracker applies them once."""
    from processors.handoffs.transitions import apply
    from tests.processors.handoffs.factories import context, created

    bad, env = counter_part_letter()
    body = json.loads(SEALER.open(sealed_body_of(bad), "adapter.branch"))
    body["transaction"]["follow_up"] = {"summary": "brought the bank statement"}  # no handoff_id
    headers = (("http.path", b"/v1/counter/events"), ("branch.terminal_id", b"CT-0142-01"),
               ("branch.branch_id", b"0142"))
    raw = json.dumps(body).encode()
    letters = (part_letter(raw, "adapter.branch", headers, "'transaction.handoff.kind' is required to open a handoff"),
               part_letter(raw, "adapter.branch", headers, "'transaction.follow_up.handoff_id' is required"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (alone,) = dry_run([letters[0]], {"transaction.handoff.kind": "sim-swap"}, monkeypatch, env)
    assert alone.action == "would_redrive", alone
    assert [e.event.schema for e in re_driven(letters[0], "adapter.branch", {"transaction.handoff.kind": "sim-swap"})
            ] == ["omnibus.handoff.HandoffCreated"]
    (still,) = dry_run([letters[1]], {"transaction.handoff.kind": "sim-swap"}, monkeypatch, env)
    assert still.action == "refused" and "the follow-up is refused again" in still.reason, still
    fix = {"transaction.handoff.kind": "sim-swap", "transaction.follow_up.handoff_id": "REC-2026-000451"}
    first, second = (re_driven(letter, "adapter.branch", fix) for letter in letters)
    schemas = ["omnibus.handoff.HandoffCreated", "omnibus.handoff.HandoffFollowedUp"]
    assert sorted(e.event.schema for e in first) == schemas and {e.topic for e in first} == {HANDOFF_TOPIC}
    assert [e.event.value["envelope"]["event_id"] for e in second] == [
        e.event.value["envelope"]["event_id"] for e in first]
    states: dict[str, Any] = {"REC-2026-000451": apply(None, created("REC-2026-000451"), context()).state}
    applied = []
    for event in (*first, *second):
        handoff = event.event.value["handoff_id"]
        transition = apply(states.get(handoff), event.event, context())
        states[handoff] = transition.state
        applied.append(transition.changed)
    assert applied == [True, True, False, False]  # the second re-drive's copies change nothing
    assert states["REC-2026-000451"].follow_ups == 1 and len(states) == 2


def sealed_body_of(bad: DeadLetter) -> bytes:
    from processors.deadletters.sealed import sealed_body

    sealed = sealed_body(bad)
    assert sealed is not None
    return sealed[0]
