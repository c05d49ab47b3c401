"""An operator's ``move-contact`` of the contact that made a customer a user of an identifier takes it off that
identifier's users (tester24 F13, ``graph/release.py`` ``moved_away``).

Sophie calls from her billing mobile and types Claire's customer number, which the deployment reads
(``verified_record_attributes``): the call is placed on Claire, kept apart through the mobile, and the mobile's node
keeps the call's evidence (Claire's number: a second person). The operator moves the call to Sophie (``omnibus
identity move-contact ctr-0002 --from <Claire> --to <Sophie>``): the call was Claire's only use of the mobile, so
neither screen pop calls it shared any more. A housemate whose own billing line carried the mobile stays one of its
users when one of her calls moves, also in the orders where her line gave it up at a claim (``elsewhere.given_up``).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import Refused, Send
from processors.identity.graph.state import CustomerState
from processors.identity.rules import MANUAL_RELEASE
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed, landed
from tests.processors.identity.graph.test_keypad_customer_number import (
    EXPORTED,
    LINES,
    MOBILES,
    PLAIN,
    READ_BY_THE_FLOW,
    arrival,
    billing_line,
    sophie_types_claires_number,
    two_customers,
)
from tests.processors.identity.graph.test_release_users import hint, mobile
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings


def typed() -> list[tuple[Event, str]]:
    return sophie_types_claires_number(verified_record_attributes=READ_BY_THE_FLOW)


def move(h: Harness, source: str, target: str, token: str = "cmd-move-ctr-0002") -> None:
    h.local.submit([Send(source, MoveContact("ctr-0002", target, "ops-tester", "Sophie typed a wrong number",
                                             token))])
    h.local.run()


def claire_line_on_the_family_mobile() -> list[tuple[Event, str]]:
    """Claire's billing line with Sophie's mobile as its contact phone (one household's phone on both lines)."""
    line: dict[str, Any] = {**LINES["claire"], "phone": MOBILES["sophie"]}
    mapped = map_business(BusinessRecord("AccountOpened", line, "accounts.csv:6", EXPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


@pytest.mark.parametrize("order", range(6))
def test_f13_moving_the_keypad_call_to_sophie_takes_claire_off_her_mobile(order: int) -> None:
    """The tester's case in every arrival order: the call on Claire, both pops call the mobile shared; after the move
    the call is Sophie's, the mobile stays hers, Claire is off its users and neither pop calls it shared."""
    h = Harness(settings())
    feed(h, arrival(order, billing_line("sophie", 5), billing_line("claire", 6), typed()))
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None and sophie != claire
    assert {customer for event, _ in typed() for customer in landed(h, event)} == {claire}
    assert hint(h, sophie) is not None and hint(h, claire) is not None
    move(h, claire, sophie)
    assert {customer for event, _ in typed() for customer in landed(h, event)} <= {sophie, claire}
    claire_node = h.local.store.nodes[claire]
    assert isinstance(claire_node, CustomerState)
    assert claire not in mobile(h).kept_apart and h.key("PHONE", MOBILES["sophie"]) not in claire_node.elsewhere
    assert hint(h, sophie) is None and hint(h, claire) is None
    assert h.customer("PHONE", MOBILES["sophie"]) == sophie and two_customers(h) == (sophie, claire)
    (refused,) = [d for d in h.decisions(Refused) if d.lineage.rule == MANUAL_RELEASE]
    assert refused.customer_id == claire and refused.operator == "ops-tester" and not refused.evicted
    h.local.check_consistent()


def test_a_copy_of_the_move_announces_nothing_more() -> None:
    h = Harness(settings())
    feed(h, [*billing_line("sophie", 5), *billing_line("claire", 6), *typed()])
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None
    move(h, claire, sophie)
    seen = len(h.local.decisions)
    move(h, claire, sophie)  # redelivered: the step token
    move(h, claire, sophie, token="cmd-move-again")  # the contact is no longer there: nothing to disown
    assert [d for d in h.local.decisions[seen:] if isinstance(d, Refused)] == []


@pytest.mark.parametrize("order", range(6))
def test_a_housemate_whose_billing_line_carried_the_mobile_stays_one_of_its_users(order: int) -> None:
    """Claire's own line names the mobile (a household's phone): moving her keypad call leaves her kept apart
    through it, and both pops still say it is used by two people. In orders 2, 3 and 5 her line came before Sophie's
    and gave the mobile up at Sophie's claim: she kept no record of the events that carried it then, and the move
    took her off as it does the keypad-only caller (``elsewhere.given_up``)."""
    h = Harness(settings())
    feed(h, arrival(order, billing_line("sophie", 5), claire_line_on_the_family_mobile(), typed()))
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None and sophie != claire
    assert claire in mobile(h).kept_apart
    move(h, claire, sophie)
    assert claire in mobile(h).kept_apart
    assert hint(h, sophie) is not None and hint(h, claire) is not None
    h.local.check_consistent()


# The arrivals (``arrival``'s orders of Sophie's line, Claire's line on the mobile, the keypad call) in which Claire
# held the mobile before Sophie's line claimed it: her line came before Sophie's.
GIVEN_UP_AT_A_CLAIM = (2, 3, 5)
CALL_ORDERS = list(itertools.permutations(range(len(typed()))))


@pytest.mark.parametrize("order", GIVEN_UP_AT_A_CLAIM)
def test_a_housemate_who_gave_the_mobile_up_at_a_claim_stays_its_user_whatever_the_order_of_the_calls_events(
        order: int) -> None:
    """The keypad call's events (CallCompleted, InteractionRecorded, its IVR record, the handoff it opened) in each of
    their 24 orders, in the arrivals where Claire's line gave the mobile up at Sophie's claim: moving the call leaves
    Claire kept apart through the mobile and both pops calling it used by two people."""
    events = typed()
    for call_order in CALL_ORDERS:
        h = Harness(settings())
        feed(h, arrival(order, billing_line("sophie", 5), claire_line_on_the_family_mobile(),
                        [events[index] for index in call_order]))
        sophie, claire = two_customers(h)
        assert sophie is not None and claire is not None and sophie != claire, call_order
        move(h, claire, sophie)
        assert claire in mobile(h).kept_apart, call_order
        assert hint(h, sophie) is not None and hint(h, claire) is not None, call_order
        h.local.check_consistent()
