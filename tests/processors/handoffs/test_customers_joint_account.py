"""Tester21 F20: Emma's handoff opened with the joint account Luc keeps is Emma's, notifications included.

At the counter (the joint IBAN alone, her name and birth date to the clerk) or at the call center (an unknown phone
and the IBAN, her IVR traits), identity places the handoff on Emma (``tests/processors/identity/graph/
test_joint_holders_handoff.py``). The tracker reads the HandoffCreated before that placement, when only the IBAN
names anyone: Luc. No notification may then name Luc nor go to his phone: the first one (RECEIVED) waits for no
placement, so it names no customer and no address of a guessed one (keyed by the handoff id), and the placement
then gives the case, its tier and every later notification to Emma.
"""

from __future__ import annotations

import pytest

from tests.processors.handoffs.factories import T0, accepted, created
from tests.processors.handoffs.test_customers import H, opened
from tests.processors.handoffs.test_customers_placement import Placed

JOINT_IBAN = {"type": "ACCOUNT", "value": "FR2630004000031234567891140"}  # kept by Luc's customer
LUC_PHONE = {"type": "PHONE", "value": "+33655554455"}
EMMA_PHONE = {"type": "PHONE", "value": "+33677778899"}
EMMA_ACCOUNT = {"type": "ACCOUNT", "value": "FR7630004000039876543210123"}  # her own
UNKNOWN_PHONE = {"type": "PHONE", "value": "+33600000001"}
CHANNELS = [("BRANCH", [JOINT_IBAN]), ("CALL_CENTER", [UNKNOWN_PHONE, JOINT_IBAN])]


class Joint(Placed):
    def __init__(self) -> None:
        super().__init__()
        self.assign("cus_luc_b", LUC_PHONE, JOINT_IBAN)
        self.assign("cus_emma_b", EMMA_PHONE, EMMA_ACCOUNT)
        self.business(opened(JOINT_IBAN["value"], "premium"), opened(EMMA_ACCOUNT["value"], "standard"))

    def notifications(self) -> list[dict]:
        return [{**o.event.value, "key": o.key} for o in self.published("CustomerNotification")]


def on_luc(notification: dict) -> bool:
    return "cus_luc_b" in (notification["key"], notification["customer_id"]) or (
        notification["address"] or {}).get("value") == LUC_PHONE["value"]


@pytest.mark.parametrize(("channel", "identifiers"), CHANNELS, ids=["counter", "call-center"])
async def test_a_handoff_read_before_its_placement_never_notifies_the_keeper(
        channel: str, identifiers: list[dict]) -> None:
    world = Joint()
    handoff = created("h1", channel=channel, tier=None, identifiers=identifiers)
    await world.send(handoff)  # only the IBAN names anyone yet: Luc
    (received,) = world.notifications()
    assert received["kind"] == "RECEIVED" and not on_luc(received)
    assert received["key"] == "h1" and received["customer_id"] is None
    world.contact("cus_emma_b", handoff)  # identity's placement, weighed with her name and birth date
    await world.tick(T0 + H)
    state = world.state()
    assert (state.customer_id, state.customer_placed) == ("cus_emma_b", True)
    assert state.service_tier == "standard"  # her tier times her case, not Luc's premium
    await world.send(accepted("h1", T0 + 2 * H))
    assert [n["kind"] for n in world.notifications()] == ["RECEIVED", "IN_PROGRESS"]
    assert not any(on_luc(n) for n in world.notifications())
    assert world.notifications()[-1]["key"] == "cus_emma_b"


@pytest.mark.parametrize(("channel", "identifiers"), CHANNELS, ids=["counter", "call-center"])
async def test_a_placement_read_first_names_her_from_the_first_notification(
        channel: str, identifiers: list[dict]) -> None:
    world = Joint()
    handoff = created("h1", channel=channel, tier=None, identifiers=identifiers)
    world.contact("cus_emma_b", handoff)
    await world.send(handoff)
    (received,) = world.notifications()
    assert (received["key"], received["customer_id"]) == ("cus_emma_b", "cus_emma_b") and not on_luc(received)
