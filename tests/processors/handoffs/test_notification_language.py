"""A customer notification is written in the customer's language, and every notification of a handoff has one key
(the kind of tester29 F6: English-only text, the RECEIVED keyed by handoff id and the later ones by customer id)."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bus.serde import Event
from processors.handoffs.config import HandoffPolicy, NotificationPolicy
from processors.handoffs.notification_templates import BUILT_IN_TEMPLATES
from processors.handoffs.transitions import apply
from schemas.enums import NOTIFICATION_KINDS
from tests.processors.handoffs.factories import T0, accepted, closed, context, created, resolved

H = timedelta(hours=1)


def told(facts: dict[str, str], policy: HandoffPolicy | None = None) -> list[dict]:
    """The notifications of a case opened with ``facts``, accepted, resolved and closed."""
    ctx = context(policy)
    handoff = created("h1")
    handoff = Event(handoff.schema, {**handoff.value, "intake_facts": facts})
    notes, state = [], None
    for event in (handoff, accepted("h1", T0 + H), resolved("h1", T0 + 2 * H), closed("h1", T0 + 3 * H)):
        transition = apply(state, event, ctx)
        state = transition.state
        notes += [(o.key, o.event.value) for o in transition.outputs if o.destination == "notifications"]
    return notes


@pytest.mark.parametrize("spelling", ["preferred_language", "language", "locale", "Locale"])
def test_a_customer_who_said_spanish_is_told_in_spanish(spelling: str) -> None:
    notes = told({spelling: "es_ES"})
    assert [n["parameters"]["language"] for _, n in notes] == ["es"] * 4
    assert notes[0][1]["message"].startswith("Hemos trasladado su solicitud a nuestro equipo de back-office.")
    assert notes[2][1]["message"] == "Su solicitud se ha resuelto: Refunded"


def test_without_a_language_the_policy_default_is_used() -> None:
    assert told({})[0][1]["message"].startswith("We have passed your request")
    spanish_bank = HandoffPolicy(notifications=NotificationPolicy(default_language="es"))
    assert told({}, spanish_bank)[0][1]["parameters"]["language"] == "es"
    # a language with no templates (French here), or a value that is no language tag: the default
    assert [n["parameters"]["language"] for _, n in told({"locale": "fr-FR"}, spanish_bank)] == ["es"] * 4
    assert told({"language": "??"})[0][1]["parameters"]["language"] == "en"


def test_a_deployment_adds_a_language_and_a_region_falls_back_to_its_language() -> None:
    french = {kind: f"[{kind}] {{team}}" for kind in NOTIFICATION_KINDS}
    policy = HandoffPolicy(notifications=NotificationPolicy(templates={**BUILT_IN_TEMPLATES, "fr": french}))
    assert told({"locale": "fr-CA"}, policy)[0][1]["message"] == "[RECEIVED] back-office"
    mexican = {**BUILT_IN_TEMPLATES["es"], "CLOSED": "Su solicitud quedó cerrada."}
    policy = HandoffPolicy(notifications=NotificationPolicy(templates={**BUILT_IN_TEMPLATES, "es-MX": mexican}))
    assert told({"locale": "es-MX"}, policy)[3][1]["message"] == "Su solicitud quedó cerrada."
    assert told({"locale": "es-ES"}, policy)[3][1]["message"] == "Su solicitud se ha cerrado."


@pytest.mark.parametrize(("notifications", "says"), [
    ({"default_language": "fr"}, "'fr' has no templates"),
    ({"templates": {"en": {"RECEIVED": "x"}}}, "lack CLOSED, DELAYED, IN_PROGRESS"),
    ({"templates": {"en": {**BUILT_IN_TEMPLATES["en"], "CLOSED": "{customer_name}"}}}, "customer_name"),
    ({"templates": {**BUILT_IN_TEMPLATES, "pt_br": BUILT_IN_TEMPLATES["en"]}}, "write it 'pt-BR'"),
    ({"templates": {**BUILT_IN_TEMPLATES, "es": {**BUILT_IN_TEMPLATES["es"], "LOST": "x"}}}, "unknown kind 'LOST'"),
])
def test_a_policy_with_templates_that_cannot_be_rendered_is_refused_at_start(notifications: dict, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        HandoffPolicy.model_validate({"notifications": notifications})


def test_a_notification_is_keyed_by_the_customer_it_names_else_by_its_handoff() -> None:
    assert all(key == (note["customer_id"] or note["handoff_id"]) for key, note in told({}))


def test_every_built_in_language_has_every_kind_and_the_same_undated_texts() -> None:
    from processors.handoffs.notification_templates import undated_kind

    expected = set(NOTIFICATION_KINDS) | {undated_kind("RECEIVED")}
    assert all(set(by_kind) == expected for by_kind in BUILT_IN_TEMPLATES.values())
