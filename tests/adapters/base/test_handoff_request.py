"""The handoff request every channel but the web reads (call center attributes, counter transactions, legacy rows)."""

from __future__ import annotations

from adapters.base.handoff_request import HandoffRequest


def created(summary: str) -> str:
    request = HandoffRequest.parse("card-dispute", None, summary)
    assert request is not None
    event = request.event(envelope={}, handoff_id="h-1", channel="CALL_CENTER", identifiers=[], site=None,
                          interaction_id="c-1", actor={"kind": "SYSTEM", "id": "ivr"}, facts={}, traits_event_id=None)
    return str(event.value["summary"])


def test_the_summary_an_agent_typed_carries_no_identifier_and_keeps_its_amounts() -> None:
    """tester21 F6/F7: the web's summary was scrubbed, the other channels' were not; amounts stay as written."""
    assert created("Charge 89.90 EUR on 1.50e3, card 4970 1000 0000 0014 mail alice.martin@bank-test.fr") == \
        "Charge 89.90 EUR on 1.50e3, card [digits] mail [email]"
    assert created("Line down since Monday") == "Line down since Monday"
