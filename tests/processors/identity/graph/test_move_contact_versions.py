"""An operator moves a contact that has several versions (``move_contact.py``, ``versions.py``).

A counter transaction was uploaded with Ana's phone, then corrected with another one (rule ``corrected-version``:
the correction joins the first upload on Ana's screen pop); the clerk had picked the wrong customer, and an operator
moves the transaction to Gil. The move takes both versions; Gil's customer then tells the versions node where each
event now is. Told the correction's new place first, the node saw the first upload still on Ana's and moved the
contact back (the operator's move undone, when both uploads share their instant); told the first upload's first,
it sent a move of the correction from Ana's, which no longer held it, announced as a second ``ContactMoved`` with no
event and the rule's reason. Now the earliest version is told first (``versions.placed_together``), and a rule's
move that finds nothing to move says nothing: one ``ContactMoved``, the operator's, and the contact stays on Gil's.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from bus.serde import Event
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import ContactMoved, Send
from processors.identity.rules import CORRECTED_VERSION, MANUAL_MOVE
from tests.processors.identity.graph.test_corrected_versions import (
    CORRECTION,
    PEDRO_PHONE,
    TYPO_PHONE,
    ana,
    published,
    run,
    scene,
    upload,
)
from tests.processors.identity.graph.test_seek import OBSERVED, contact_ids, root
from tests.processors.identity.support import Harness, observed


def corrected_later(corrected_phone: str, minutes: int) -> dict[str, list[tuple[Event, str]]]:
    """``scene`` with the correction occurring ``minutes`` after the first upload (the terminal stamps it anew)."""
    items = scene(corrected_phone)
    sent = upload(corrected_phone, CORRECTION)
    event = sent["events"][0]
    event["occurred_at"] = (datetime.fromisoformat(event["occurred_at"]) + timedelta(minutes=minutes)).isoformat()
    items["v2"] = published(copy.deepcopy(sent))
    return items


def moved_to_gil(items: dict[str, list[tuple[Event, str]]], order: tuple[str, ...]) -> tuple[Harness, str, str, int]:
    """The scene run in ``order``, Gil's customer made, then the operator's move of the transaction from Ana's to
    his; (harness, Ana's, Gil's, decisions before the move)."""
    h = run(order, items)
    anas = ana(h, items)
    h.feed(observed([("EMAIL", "gil@example.es")], minutes=5), OBSERVED)
    gils = h.customer("EMAIL", "gil@example.es")
    assert gils is not None and root(h, gils) != anas
    (contact,) = contact_ids(h, anas)
    before = len(h.local.decisions)
    h.local.submit([Send(anas, MoveContact(contact, gils, "ops-3", "the clerk picked the wrong customer", "cmd-1"))])
    h.local.run()
    h.local.check_consistent()
    return h, anas, gils, before


@pytest.mark.parametrize("minutes", [0, 30], ids=["same-instant", "corrected-later"])
@pytest.mark.parametrize("corrected_phone", [TYPO_PHONE, PEDRO_PHONE])
@pytest.mark.parametrize("order", [("ana", "v1", "v2", "status"), ("v1", "status", "ana", "v2")], ids="-".join)
def test_an_operators_move_of_a_corrected_contact_stays_and_is_announced_once(
        order: tuple[str, ...], corrected_phone: str, minutes: int) -> None:
    items = corrected_later(corrected_phone, minutes)
    if "pedro" in items:
        order = ("pedro", *order)
    h, anas, gils, before = moved_to_gil(items, order)
    moves = [d for d in h.local.decisions[before:] if isinstance(d, ContactMoved)]
    assert [(m.source_id, m.target_id, m.operator, m.lineage.rule) for m in moves] == [
        (anas, gils, "ops-3", MANUAL_MOVE)]
    assert len(moves[0].moved) >= 4  # both uploads' contact events and the case's
    assert not contact_ids(h, root(h, anas)) and len(contact_ids(h, root(h, gils))) == 1


def test_a_rule_move_that_finds_the_contact_gone_says_nothing() -> None:
    """A versions node's move (rule ``corrected-version``) reaching a customer that no longer records the contact."""
    items = scene(TYPO_PHONE)
    h = run(("ana", "v1", "v2", "status"), items)
    anas = ana(h, items)
    before = len(h.local.decisions)
    h.local.submit([Send(anas, MoveContact("counter:elsewhere", "cus_other", "omnibus-identity", "rule", "cmd-r",
                                           rule=CORRECTED_VERSION))])
    h.local.run()
    assert not [d for d in h.local.decisions[before:] if isinstance(d, ContactMoved)]
