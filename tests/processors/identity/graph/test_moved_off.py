"""Where what left a customer went (``moved_off.py``): notes, their merge, and no loop on stale notes."""

from __future__ import annotations

from typing import NamedTuple

from bus.serde import SerdeContext
from processors.identity.graph import moved_off
from processors.identity.graph.messages.base import MovedOff
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.outputs import Resolved, Send
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from processors.identity.intake import event_ref
from tests.processors.identity.support import SERIALIZER, Harness, interaction, settings

CONTACTS = "contact.events.v1"
PHONE = ("PHONE", "+33688888888")


def two_customers(h: Harness) -> tuple[str, str]:
    h.observe(("EMAIL", "a@moved.example"))
    h.observe(("EMAIL", "b@moved.example"))
    a, b = h.customer("EMAIL", "a@moved.example"), h.customer("EMAIL", "b@moved.example")
    assert a is not None and b is not None and a != b
    return a, b


def root(h: Harness, customer: str) -> CustomerState:
    state = h.local.store.nodes[customer]
    assert isinstance(state, CustomerState)
    return state


def late_call(h: Harness, to: str, phone: str) -> str:
    event = interaction([PHONE], minutes=9)
    ref = event_ref(CONTACTS, event, SERIALIZER(event, SerdeContext(topic=CONTACTS)))
    event_id = str(event.value["envelope"]["event_id"])
    h.local.submit([Send(to, Apply(event_id, 0.0, None, ref, channel="CALL_CENTER", carried=[phone]))])
    h.local.run(10_000)
    return event_id


def test_two_stale_notes_naming_each_other_never_pass_an_apply_back_and_forth() -> None:
    """Notes merged from losers, or a move undone since, may name each other (order8b's draw 439 passed one apply
    between two customers for ever): the apply goes on once per customer at most, then is applied."""
    h = Harness(settings())
    a, b = two_customers(h)
    phone = h.key(*PHONE)
    root(h, a).split_off = {phone: MovedOff(b, 2, claim=True)}
    root(h, b).split_off = {phone: MovedOff(a, 3)}
    event_id = late_call(h, a, phone)
    assert [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id] == [a]


def test_a_note_naming_the_customer_itself_or_one_merged_into_it_is_ignored() -> None:
    h = Harness(settings())
    a, b = two_customers(h)
    phone = h.key(*PHONE)
    root(h, a).split_off = {phone: a}
    root(h, b).split_off = {phone: "cus_merged_into_b"}
    root(h, b).aliases = ["cus_merged_into_b"]
    for customer in (a, b):
        event_id = late_call(h, customer, phone)
        assert [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id] == [customer]


def test_a_merge_keeps_the_later_move_of_an_identifier_and_the_latest_notes() -> None:
    state = CustomerState(created=True)
    state.split_off = {"PHONE:1": MovedOff("cus_b", 2), "EMAIL:1": "cus_c"}
    moved_off.merge(state, {"PHONE:1": MovedOff("cus_d", 5), "EMAIL:1": MovedOff("cus_e", 0)})
    assert state.split_off == {"PHONE:1": MovedOff("cus_d", 5), "EMAIL:1": "cus_c"}
    for n in range(moved_off.MAX_MOVED_OFF + 5):
        moved_off.note_contact(state, f"CALL-{n}", "cus_f", "move-1")
    assert len(state.split_off) == moved_off.MAX_MOVED_OFF
    assert moved_off.CONTACT + f"CALL-{moved_off.MAX_MOVED_OFF + 4}" in state.split_off
    moved_off.received(state, [moved_off.CONTACT + f"CALL-{moved_off.MAX_MOVED_OFF + 4}"])
    assert len(state.split_off) == moved_off.MAX_MOVED_OFF - 1


def test_a_split_noted_by_an_earlier_version_still_decodes_and_is_followed() -> None:
    """Earlier versions stored a split's note as the new customer's id alone."""
    h = Harness(settings())
    a, b = two_customers(h)
    phone = h.key(*PHONE)
    old = root(h, a)
    old.split_off = {phone: b}
    h.local.store.nodes[a] = decode_state(encode_state(old))
    assert root(h, a).split_off == {phone: b}
    event_id = late_call(h, a, phone)
    assert [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id] == [b]


class _At(NamedTuple):
    """The two fields ``moved_off._displaced`` reads of a customer's handler context."""

    key: str
    state: CustomerState


def test_a_join_follows_a_user_id_the_limit_of_one_moved_out_not_one_an_operator_split_off() -> None:
    """``join_follows``'s first rule (``_displaced``): a user id moved out by the limit of one (``displace.split_off``:
    no do-not-merge) takes its event's late ``join`` along; an operator's split (do-not-merge), a claim or a note
    naming the customer itself decide nothing. The orders it fixes: ``test_displace_order.py``."""
    note = MovedOff("cus_b", 2)
    assert moved_off._displaced(_At("cus_a", CustomerState(created=True)), note) == "cus_b"  # type: ignore[arg-type]
    split = CustomerState(created=True, do_not_merge=["cus_b"])
    assert moved_off._displaced(_At("cus_a", split), note) is None  # type: ignore[arg-type]
    claimed = MovedOff("cus_b", 2, claim=True)
    assert moved_off._displaced(_At("cus_a", CustomerState(created=True)), claimed) is None  # type: ignore[arg-type]
    assert moved_off._displaced(_At("cus_b", CustomerState(created=True)), note) is None  # type: ignore[arg-type]
