"""A customer reads a notification as it is: the deadline in the team's local time, written as the message's language
writes dates (CLDR, Babel), the team by the name customers know it by, and what a hold asks of them (tester32 F1,
F6). The notification's ``parameters`` keep the machine-readable values for channels that render their own text."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bus.clock import to_micros
from bus.serde import Event
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.notifications import notification
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import apply
from schemas.enums import NOTIFICATION_KINDS
from tests.processors.handoffs.factories import (
    T0,
    accepted,
    closed,
    context,
    created,
    reopened,
    resolved,
    resumed,
    waiting,
)

H = timedelta(hours=1)
# tester32's bank: card disputes worked in Madrid 08:00-15:00 on weekdays, Spanish public holidays off
MADRID = {"timezone": "Europe/Madrid", "working_days": ["mon", "tue", "wed", "thu", "fri"], "opens": "08:00",
          "closes": "15:00", "holiday_country": "ES"}
DISPUTES = {"name": "disputas-tarjetas", "calendar": "madrid",
            "display_name": {"es": "disputas con tarjeta", "en": "card disputes"}}
OPENED = datetime(2026, 12, 3, 9, 15, tzinfo=UTC)  # 10:15 in Madrid, F1's counter visit
EVERY_PLACEHOLDER = "{team}|{deadline}|{resolution}|{request}"


def bank(*teams: dict, default_language: str = "es", **policy: object) -> HandoffPolicy:
    return HandoffPolicy.model_validate({
        "calendars": {"default": {}, "madrid": MADRID}, "teams": list(teams or [DISPUTES]),
        "default_team": (teams or [DISPUTES])[0]["name"], "notifications": {"default_language": default_language},
        **policy})


def opened(policy: HandoffPolicy, at: datetime = OPENED, facts: dict | None = None) -> tuple[HandoffState, dict]:
    """The state of a case opened at ``at`` with intake ``facts``, and its RECEIVED notification."""
    handoff = created("h1", at, case_type="card-dispute")
    handoff = Event(handoff.schema, {**handoff.value, "intake_facts": facts or {}})
    transition = apply(None, handoff, context(policy))
    (received,) = [o.event.value for o in transition.outputs if o.destination == "notifications"]
    return transition.state, received


def test_tester32_f1_the_spanish_bank_s_received_names_the_team_and_the_deadline_as_a_customer_reads_them() -> None:
    """Seen: "...equipo de disputas-tarjetas. Le responderemos antes de 2026-12-09T08:15:00+00:00." (UTC, an hour
    off for a reader in Madrid, and the team's internal id)."""
    _, received = opened(bank())
    assert received["message"] == ("Hemos trasladado su solicitud a nuestro equipo de disputas con tarjeta. "
                                   "Le responderemos antes del 9 de diciembre, 9:15.")
    assert received["parameters"] == {
        "handoff_id": "h1", "case_type": "card-dispute", "status": "ROUTED", "team": "disputas-tarjetas",
        "team_name": "disputas con tarjeta", "deadline": "2026-12-09T08:15:00+00:00", "time_zone": "Europe/Madrid",
        "language": "es"}
    _, english = opened(bank(), facts={"preferred_language": "en-GB"})
    assert english["message"] == ("We have passed your request to our card disputes team. "
                                  "We will get back to you by December 9, 9:15 AM.")


@pytest.mark.parametrize(("opened_at", "deadline_utc", "readable"), [
    # 20 working hours from Friday 23 October 10:15 CEST; the clocks go back on Sunday 25: 28 October 9:15 CET
    (datetime(2026, 10, 23, 8, 15, tzinfo=UTC), "2026-10-28T08:15:00+00:00", "28 de octubre, 9:15"),
    # in summer time (CEST, UTC+2): from Wednesday 1 July 09:15 to Monday 6 July 08:15
    (datetime(2026, 7, 1, 7, 15, tzinfo=UTC), "2026-07-06T06:15:00+00:00", "6 de julio, 8:15"),
    # into the next year (New Year's Day off): the year is written
    (datetime(2026, 12, 30, 9, 0, tzinfo=UTC), "2027-01-05T08:00:00+00:00", "5 de enero de 2027, 9:00"),
])
def test_the_deadline_is_written_in_the_team_s_zone_at_the_deadline_s_own_offset(
        opened_at: datetime, deadline_utc: str, readable: str) -> None:
    _, received = opened(bank(), opened_at)
    assert received["parameters"]["deadline"] == deadline_utc
    assert received["message"].endswith(f"Le responderemos antes del {readable}.")


def test_a_team_without_a_calendar_writes_the_deadline_in_the_policy_s_default_calendar_zone_else_utc() -> None:
    """A team that names no calendar works on the policy's ``default`` one (UTC unless the policy sets its zone). A
    deadline in UTC says so: a Spanish customer told "antes del 5 de diciembre, 5:06" read 5:06 as Madrid's time, an
    hour early (the guide's steps set no calendar zone)."""
    _, classic = opened(HandoffPolicy(), T0)  # round the clock, 20 hours from Monday 2 November 09:00 UTC
    assert classic["message"] == ("We have passed your request to our back-office team. "
                                  "We will get back to you by November 3, 5:00 AM UTC.")
    _, spanish = opened(HandoffPolicy(notifications={"default_language": "es"}), T0)  # type: ignore[arg-type]
    assert spanish["message"].endswith("Le responderemos antes del 3 de noviembre, 5:00 UTC.")
    assert classic["parameters"]["time_zone"] == "UTC" and "team_name" not in classic["parameters"]
    madrid_default = bank({"name": "back-office"}, default_language="en",
                          calendars={"default": {"timezone": "Europe/Madrid"}})
    _, local = opened(madrid_default, T0)
    assert local["message"].endswith("We will get back to you by November 3, 6:00 AM.")
    assert local["parameters"]["time_zone"] == "Europe/Madrid"
    assert local["parameters"]["deadline"] == classic["parameters"]["deadline"] == "2026-11-03T05:00:00+00:00"


@pytest.mark.parametrize(("language", "team", "deadline"), [
    ("en", "card disputes", "December 9, 9:15 AM"),
    ("es", "disputas con tarjeta", "9 de diciembre, 9:15"),
    ("pt-BR", "disputas-tarjetas", "9 de dezembro 09:15"),  # a policy language: CLDR's pattern; no name: the id
])
def test_every_kind_fills_every_placeholder_in_both_built_in_languages_and_a_policy_language(
        language: str, team: str, deadline: str) -> None:
    templates = {language: {kind: f"{kind}: {EVERY_PLACEHOLDER}" for kind in NOTIFICATION_KINDS}}
    policy = bank(default_language=language, notifications={"default_language": language, "templates": templates})
    state, _ = opened(policy)
    ctx = context(policy)
    for kind in NOTIFICATION_KINDS:
        told = notification(ctx.emitter, state, kind, to_micros(OPENED), None, seed="t", policy=policy,
                            quoted={"resolution": "Refunded", "request": "Send the receipt"}).event.value
        assert told["message"] == f"{kind}: {team}|{deadline}|Refunded|Send the receipt"
        assert told["parameters"]["language"] == language
        assert {told["parameters"][p] for p in ("resolution", "request")} == {"Refunded", "Send the receipt"}


def lifecycle(policy: HandoffPolicy, request: str | None, facts: dict | None = None) -> dict[str, dict]:
    """The notifications, by kind (the last of each), of a case opened, accepted, put on hold with ``request``,
    resumed, resolved, closed and reopened."""
    state, received = opened(policy, facts=facts)
    hold = waiting("h1", OPENED + 2 * H)
    hold = Event(hold.schema, {**hold.value, "request": request})
    told = {"RECEIVED": received}
    for event in (accepted("h1", OPENED + H), hold, resumed("h1", OPENED + 3 * H), resolved("h1", OPENED + 4 * H),
                  closed("h1", OPENED + 5 * H), reopened("h1", OPENED + 6 * H)):
        transition = apply(state, event, context(policy))
        state = transition.state
        told |= {o.event.value["kind"]: o.event.value for o in transition.outputs if o.destination == "notifications"}
    return told


def test_tester32_f6_what_a_hold_asks_of_the_customer_is_in_their_notification_scrubbed() -> None:
    """Seen: "Necesitamos información suya para continuar con su solicitud." and no request in ``parameters``. A
    back office that speaks Kafka publishes the request unscrubbed: the DNI in it never reaches the customer."""
    told = lifecycle(bank(), "Necesitamos copia del DNI 48765431A y el justificante")
    waiting_on_customer = told["WAITING_ON_CUSTOMER"]
    assert waiting_on_customer["message"] == ("Necesitamos información suya para continuar con su solicitud: "
                                              "Necesitamos copia del DNI [digits] y el justificante")
    assert waiting_on_customer["parameters"]["request"] == "Necesitamos copia del DNI [digits] y el justificante"
    assert "48765431" not in json.dumps(told, default=str)
    assert set(told) == set(NOTIFICATION_KINDS) - {"DELAYED"}
    assert "request" not in told["IN_PROGRESS"]["parameters"] and told["RESOLVED"]["parameters"]["resolution"]


@pytest.mark.parametrize(("facts", "says"), [
    ({}, "Necesitamos información suya para continuar con su solicitud: le indicaremos cuál en breve."),
    ({"language": "en"}, "We need some information from you to continue with your request: we will be in touch to "
                         "tell you what we need."),
])
def test_a_hold_without_a_request_says_the_customer_will_be_told(facts: dict, says: str) -> None:
    waiting_on_customer = lifecycle(bank(), None, facts)["WAITING_ON_CUSTOMER"]
    assert waiting_on_customer["message"] == says and "request" not in waiting_on_customer["parameters"]


def test_a_team_s_display_name_per_language_one_for_all_and_its_escalation_queues() -> None:
    policy = bank(DISPUTES, {"name": "hipotecas", "display_name": "hipotecas y préstamos"}, {"name": "bizum"})
    assert policy.customer_team_name("disputas-tarjetas", "es-MX") == "disputas con tarjeta"  # RFC 4647 lookup
    assert policy.customer_team_name("disputas-tarjetas", "fr") is None  # no name in French: the id is used
    assert policy.customer_team_name("hipotecas", "en") == "hipotecas y préstamos"
    assert policy.customer_team_name("disputas-tarjetas/team-lead", "en") == "card disputes"  # still that team's case
    assert policy.customer_team_name("bizum", "es") is None and policy.customer_team_name("nowhere", "es") is None


def test_a_policy_language_without_an_undated_text_writes_its_own_with_the_fallback_words_and_one_may_be_added(
) -> None:
    from processors.handoffs.notification_templates import template_for

    by_kind = {kind: f"{kind} by {{deadline}}" for kind in NOTIFICATION_KINDS}
    assert template_for(by_kind, "RECEIVED", dated=False) == "RECEIVED by {deadline}"
    undated = {**by_kind, "RECEIVED:undated": "RECEIVED shortly"}
    assert template_for(undated, "RECEIVED", dated=False) == "RECEIVED shortly"
    assert template_for(undated, "RECEIVED", dated=True) == "RECEIVED by {deadline}"
    HandoffPolicy.model_validate({"notifications": {"default_language": "pt-BR", "templates": {"pt-BR": undated}}})
    with pytest.raises(ValidationError, match="without a deadline: it cannot use"):
        HandoffPolicy.model_validate({"notifications": {"default_language": "pt-BR", "templates": {
            "pt-BR": {**by_kind, "RECEIVED:undated": "by {deadline}"}}}})
    with pytest.raises(ValidationError, match="unknown kind 'WAVED:undated'"):
        HandoffPolicy.model_validate({"notifications": {"default_language": "pt-BR", "templates": {
            "pt-BR": {**by_kind, "WAVED:undated": "x"}}}})


@pytest.mark.parametrize(("policy", "says"), [
    ({"notifications": {"default_language": "tlh",
                        "templates": {"tlh": {kind: "x" for kind in NOTIFICATION_KINDS}}}},
     "'tlh' has no date formats in the Unicode CLDR"),
    ({"teams": [{"name": "t", "display_name": {"pt_br": "x"}}], "default_team": "t"}, "write it 'pt-BR'"),
])
def test_a_language_no_date_can_be_written_in_or_a_miscased_display_name_tag_is_refused_at_start(
        policy: dict, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        HandoffPolicy.model_validate(policy)


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Etc/Zulu"])
def test_a_deadline_in_any_spelling_of_utc_says_utc_and_a_local_zone_says_nothing(zone: str) -> None:
    from zoneinfo import ZoneInfo

    from processors.handoffs.notification_templates import readable_deadline

    deadline = datetime(2026, 12, 5, 5, 6, tzinfo=UTC)
    assert readable_deadline(deadline, ZoneInfo(zone), "es", T0) == "5 de diciembre, 5:06 UTC"
    assert readable_deadline(deadline, ZoneInfo("Europe/Madrid"), "es", T0) == "5 de diciembre, 6:06"
