"""A later version of a case's source record that corrects its contact identifiers (a counter upload's phone fixed)
re-addresses the case's later notices: to a corrected identifier the case's customer holds, else to none; never
again to the identifier it replaced (``revisions.corrected``, ``notifications.delivery``).

The reported sample: a counter visit uploaded with a mistyped phone, then corrected; every later notice of the case
(RESOLVED with the back office's words) went to the mistyped number, a stranger's if in service.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.serde import Event
from processors.handoffs.notifications import DEFAULT_POLICY, corrected_held, delivery
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import apply
from tests.processors.handoffs.factories import T0, accepted, context, created, resolved
from tests.processors.handoffs.test_transitions import assert_on_the_contract, run

CASE = "counter:T-0101-01:TX-0101-0009"
H = timedelta(hours=1)
TYPO = {"type": "PHONE", "value": "+34688000008"}
RIGHT = {"type": "PHONE", "value": "+34699000009"}
MAIL = {"type": "EMAIL", "value": "carla@example.es"}


def version(identifiers: list[dict[str, str]], at_minutes: int = 0, summary: str = "Cargo en el extranjero") -> Event:
    """The counter transaction's ``HandoffCreated`` at one upload (its own event id), naming its source record."""
    event = created(CASE, T0 + timedelta(minutes=at_minutes), channel="BRANCH", identifiers=identifiers)
    return Event(event.schema, {**event.value, "summary": summary, "intake_facts": {SOURCE_RECORD_FACT: CASE}})


def corrected_case(addresses: tuple[dict[str, str], ...], summary: str = "Cargo en el extranjero (corregido)"
                   ) -> HandoffState:
    """The case opened with the mistyped phone, its customer's identifiers as identity places them (``addresses``),
    then the upload corrected with the right phone."""
    state = run(version([TYPO])).with_(addresses=addresses)
    transition = apply(state, version([RIGHT], 1, summary), context())
    assert_on_the_contract(transition)
    return transition.state


def notice_address(state: HandoffState) -> dict[str, str] | None:
    """The address of the case's next notice (IN_PROGRESS, when the back office accepts it)."""
    transition = apply(state, accepted(CASE, T0 + H), context())
    notices = [o.event.value for o in transition.outputs if o.event.schema.endswith("CustomerNotification")]
    assert len(notices) == 1
    return notices[0]["address"]


@pytest.mark.parametrize("summary", ["Cargo en el extranjero (corregido)", "Cargo en el extranjero"],
                         ids=["summary-revised-too", "identifiers-only"])
def test_the_reported_sample_a_corrected_typo_never_notifies_the_mistyped_number_again(summary: str) -> None:
    """Identity leaves the corrected number off the customer (nobody's before: it stays on its own customer): no
    address, rather than a stranger's."""
    state = corrected_case((TYPO,), summary)
    assert state.corrected_identifiers == (RIGHT,) and state.customer_identifiers == (TYPO,)
    assert notice_address(state) is None


def test_a_corrected_identifier_identity_places_on_the_cases_customer_gets_the_notices() -> None:
    assert notice_address(corrected_case((TYPO, RIGHT))) == RIGHT


def test_another_customers_identifier_is_never_addressed_nor_the_customers_other_ones() -> None:
    """Corrected to a number identity keeps with another customer (its billing holder): no address at all, not the
    replaced number and not the customer's e-mail (the case's channel and contact were the corrected phone)."""
    assert notice_address(corrected_case((TYPO, MAIL))) is None


def test_a_corrected_e_mail_replaces_the_mistyped_one_and_the_phone_the_correction_kept_stays() -> None:
    mistyped = {"type": "EMAIL", "value": "carla@exmaple.es"}
    state = run(version([TYPO, mistyped])).with_(addresses=(MAIL, TYPO))
    state = apply(state, version([TYPO, MAIL], 1), context()).state
    assert corrected_held(state) == (TYPO, MAIL)
    assert delivery(DEFAULT_POLICY.notifications, state)[1] in (TYPO, MAIL)


def test_a_resolved_case_keeps_its_identifiers_and_address() -> None:
    """A case resolved before the correction is history: its CLOSED notice goes where its others went."""
    state = run(version([TYPO]), accepted(CASE, T0 + H), resolved(CASE, T0 + 2 * H))
    after = apply(state, version([RIGHT], 1, "Cargo en el extranjero (corregido)"), context()).state
    assert after.corrected_identifiers == () and delivery(DEFAULT_POLICY.notifications, after)[1] == TYPO


def test_a_correction_undone_by_a_later_version_addresses_the_cases_own_identifiers_again() -> None:
    state = corrected_case((TYPO,))
    again = apply(state, version([TYPO], 2, "Cargo en el extranjero (otra vez)"), context()).state
    assert again.corrected_identifiers == () and notice_address(again) == TYPO


def test_the_correction_survives_a_restart() -> None:
    state = corrected_case((TYPO, RIGHT))
    assert HandoffState.from_dict(state.to_dict()) == state


async def test_through_the_tracker_the_notices_follow_identitys_placement_of_the_corrected_number(monkeypatch) -> None:
    """The tracker with its directory: the case placed on Carla with the mistyped phone; the correction; the next
    notice goes nowhere (the corrected number is not hers yet), and once identity places it on her, to it. The
    tracker's warning for the kept identifiers names no transfer (a transfer moves a team, not an address)."""
    from structlog.testing import capture_logs

    from bus.logging import get_logger
    from processors.handoffs import tracker
    from tests.processors.handoffs.test_customers_placement import Placed

    monkeypatch.setattr(tracker, "log", get_logger(tracker.__name__))  # a new lazy logger, used inside capture_logs
    world = Placed()
    world.assign("cus_carla", TYPO)
    first = version([TYPO])
    first.value["handoff_id"] = "h1"
    await world.send(first)
    world.contact("cus_carla", first)
    await world.tick(T0 + H)
    correction = version([RIGHT], 1, "Cargo en el extranjero (corregido)")
    correction.value["handoff_id"] = "h1"
    with capture_logs() as logs:
        await world.send(correction)
    warnings = [entry["event"] for entry in logs if entry.get("field") == "customer_identifiers"]
    assert warnings and all("transfer" not in text for text in warnings)
    await world.send(accepted("h1", T0 + 2 * H))
    assert world.published("CustomerNotification")[-1].event.value["address"] is None
    world.assign("cus_carla", TYPO, RIGHT)
    await world.tick(T0 + 3 * H)
    await world.send(resolved("h1", T0 + 4 * H))
    assert world.published("CustomerNotification")[-1].event.value["address"] == RIGHT
