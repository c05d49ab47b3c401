"""The contact form of ``handoff_placed`` (``handoff_moves.contact_placed``): its wire form beside the older one, and
the bounded notes it leaves (``moved_off.note_origin``). Its effect on placements: ``test_recycled_number_new_case.py``.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph import moved_off
from processors.identity.graph.messages.base import Message, MovedOff
from processors.identity.graph.messages.steps import HandoffPlaced
from processors.identity.graph.state import CustomerState


class OlderHandoffPlaced(Message, tag="handoff_placed", frozen=True):
    """``handoff_placed`` as workers before the contact form read and wrote it."""

    handoff: str
    customer: str
    token: str


def test_old_and_new_workers_read_each_others_handoff_placed() -> None:
    """A rolling upgrade: an old worker reads the contact form as a placement of no handoff (``handoff`` empty, which
    no case's id is); a new worker reads an old message as a handoff's placement (``contact`` empty)."""
    told = HandoffPlaced("", "cus_1", "evt-1~opened", "VISIT-C")
    wire = msgspec.msgpack.encode(told)
    assert msgspec.msgpack.decode(wire, type=HandoffPlaced) == told
    assert msgspec.msgpack.decode(wire, type=OlderHandoffPlaced) == OlderHandoffPlaced("", "cus_1", "evt-1~opened")
    older = msgspec.msgpack.encode(OlderHandoffPlaced("h-1", "cus_2", "evt-2~placed"))
    assert msgspec.msgpack.decode(older, type=HandoffPlaced) == HandoffPlaced("h-1", "cus_2", "evt-2~placed")


def test_a_customer_keeps_the_latest_contact_placements_without_crowding_out_what_left_it() -> None:
    """At most ``MAX_ORIGINS`` placements, the latest; an identifier's note of where it went stays."""
    state = CustomerState(created=True, split_off={"PHONE:+33600000001": MovedOff("cus_9", 3, True)})
    for n in range(moved_off.MAX_ORIGINS + 5):
        moved_off.note_origin(state, f"VISIT-{n}", "cus_1", f"evt-{n}~opened")
    origins = [key for key in state.split_off if key.startswith(moved_off.ORIGIN)]
    assert len(origins) == moved_off.MAX_ORIGINS
    assert origins[-1] == moved_off.ORIGIN + f"VISIT-{moved_off.MAX_ORIGINS + 4}"
    assert moved_off.ORIGIN + "VISIT-0" not in state.split_off
    assert state.split_off["PHONE:+33600000001"] == MovedOff("cus_9", 3, True)
    moved_off.note_origin(state, "VISIT-12", "cus_3", "evt-x~opened")  # placed again: the latest placement
    assert moved_off.moved(state.split_off[moved_off.ORIGIN + "VISIT-12"]).to == "cus_3"
