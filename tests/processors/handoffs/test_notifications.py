from datetime import timedelta

import pytest

from processors.handoffs.transitions import apply
from tests.processors.handoffs.factories import (
    PHONE,
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
from tests.support.references import DECLARED, PRM, SPELLINGS, declared_references

H = timedelta(hours=1)


WEB_USER = {"type": "USER_ID", "value": "u-77"}


def test_every_customer_visible_change_is_told_on_the_origin_channel() -> None:
    ctx = context()
    kinds, state = [], None
    for event in (created("h1", channel="WEB", identifiers=[PHONE, WEB_USER]), accepted("h1", T0 + H),
                  waiting("h1", T0 + 2 * H),
                  resumed("h1", T0 + 3 * H), resolved("h1", T0 + 4 * H), closed("h1", T0 + 5 * H),
                  reopened("h1", T0 + 6 * H)):
        transition = apply(state, event, ctx)
        state = transition.state
        for output in transition.outputs:
            if output.destination == "notifications":
                value = output.event.value
                assert value["channel"] == "WEB" and value["site"] == "lyon" and value["address"] == WEB_USER
                assert value["customer_identifiers"] == [PHONE, WEB_USER] and value["origin_channel"] == "WEB"
                assert output.key == "h1" and value["customer_id"] is None  # no directory: customer unknown
                assert value["notification_id"] == value["envelope"]["event_id"]
                kinds.append((value["kind"], value["message"], value["parameters"].get("resolution")))
    assert [k for k, _, _ in kinds] == [
        "RECEIVED", "IN_PROGRESS", "WAITING_ON_CUSTOMER", "IN_PROGRESS", "RESOLVED", "CLOSED", "REOPENED",
    ]
    assert kinds[0][1].startswith("We have passed your request to our back-office team")
    assert kinds[4][2] == "Refunded" and "Refunded" in kinds[4][1]


def test_internal_moves_are_not_told() -> None:
    from tests.processors.handoffs.factories import acknowledged

    ctx = context()
    state = apply(None, created("h1"), ctx).state
    assert all(o.destination == "events" for o in apply(state, acknowledged("h1", T0), ctx).outputs)


def test_a_channel_that_cannot_reach_the_customer_falls_back_by_policy() -> None:
    from processors.handoffs.config import HandoffPolicy, NotificationPolicy

    # The web hall knows this customer only by a phone number, which it cannot message: the call center can.
    outputs = apply(None, created("h1", channel="WEB"), context()).outputs
    (note,) = [o.event.value for o in outputs if o.destination == "notifications"]
    assert (note["channel"], note["address"], note["origin_channel"], note["site"]) == ("CALL_CENTER", PHONE, "WEB", None)
    # With no fallback that can reach it, the origin channel gets it without an address.
    policy = HandoffPolicy(notifications=NotificationPolicy(fallback=("BRANCH",), addresses={"BRANCH": ("EMAIL",)}))
    outputs = apply(None, created("h2", channel="WEB"), context(policy)).outputs
    (note,) = [o.event.value for o in outputs if o.destination == "notifications"]
    assert (note["channel"], note["address"]) == ("WEB", None)


def test_a_resolution_published_by_a_back_office_itself_is_told_scrubbed() -> None:
    """The kind of tester24 F5 beyond the commands: a back office that speaks Kafka publishes HandoffResolved
    itself; the customer's message never quotes a card number or an e-mail address it typed."""
    ctx = context()
    state = apply(None, created("h1", channel="WEB", identifiers=[PHONE, WEB_USER]), ctx).state
    state = apply(state, accepted("h1", T0 + H), ctx).state
    event = resolved("h1", T0 + 2 * H)
    event.value["resolution"] = "Refunded to card 4111 1111 1111 1111; questions: billing@example.fr"
    (told,) = [o.event.value for o in apply(state, event, ctx).outputs if o.destination == "notifications"]
    assert told["message"].endswith("Refunded to card [digits]; questions: [email]")
    assert told["parameters"]["resolution"] == "Refunded to card [digits]; questions: [email]"


def test_tester26_f8_a_declared_reference_in_a_back_office_s_resolution_reaches_the_customer() -> None:
    """A meter point id is no person's identifier: declared (``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``), it survives
    into the customer's message as in the channel's summary; a phone beside it is still masked."""
    ctx = context()
    state = apply(None, created("h1", channel="WEB", identifiers=[PHONE, WEB_USER]), ctx).state
    state = apply(state, accepted("h1", T0 + H), ctx).state
    event = resolved("h1", T0 + 2 * H)
    event.value["resolution"] = "Gas restored, meter_point_id: 14500000000003 checked; call 06 12 34 56 78"
    with declared_references("meter_point_id"):
        (told,) = [o.event.value for o in apply(state, event, ctx).outputs if o.destination == "notifications"]
    assert told["parameters"]["resolution"] == "Gas restored, meter_point_id: 14500000000003 checked; call [digits]"
    assert told["message"].endswith(told["parameters"]["resolution"])


def test_tester33_f2_a_resolution_quotes_the_declared_reference_the_handoff_s_intake_facts_hold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``0312345678`` is a valid phone number in the deployment's region FR: the resolution keeps it whole after the
    declared name when the handoff was opened with that value under it, and masks it otherwise."""
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", "FR")
    ctx = context()
    opened = created("h1", channel="WEB", identifiers=[PHONE, WEB_USER])
    opened.value["intake_facts"] = {"instalacao": "0312345678"}
    with declared_references("instalacao"):
        state = apply(None, opened, ctx).state
        state = apply(state, accepted("h1", T0 + H), ctx).state
        told = []
        for quoted in ("0312345678", "0312345679"):
            event = resolved("h1", T0 + 2 * H)
            event.value["resolution"] = f"Religada, instalacao {quoted}; ligar 06 12 34 56 78"
            told += [o.event.value["parameters"]["resolution"] for o in apply(state, event, ctx).outputs
                     if o.destination == "notifications"]
    assert told == ["Religada, instalacao 0312345678; ligar [digits]", "Religada, instalacao [digits]; ligar [digits]"]


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_declared_reference_in_any_spelling_of_its_name_reaches_the_customer_in_the_trackers_quote(name: str) -> None:
    """tester26 F8/F11 through the tracker: ``meter_point`` declared, a back office's own ``HandoffResolved`` writes
    ``METER-POINT: ...``; the customer's notification quotes it whole, the phone beside it masked."""
    ctx = context()
    state = apply(None, created("h1", channel="WEB", identifiers=[PHONE, WEB_USER]), ctx).state
    state = apply(state, accepted("h1", T0 + H), ctx).state
    event = resolved("h1", T0 + 2 * H)
    event.value["resolution"] = f"Gas restored, {name}: {PRM} checked; call 06 12 34 56 78"
    with declared_references(DECLARED):
        (told,) = [o.event.value for o in apply(state, event, ctx).outputs if o.destination == "notifications"]
    assert told["parameters"]["resolution"] == f"Gas restored, {name}: {PRM} checked; call [digits]"
    assert told["message"].endswith(told["parameters"]["resolution"])
