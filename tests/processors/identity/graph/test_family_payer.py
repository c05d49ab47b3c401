"""tester32 F3 (a UK mobile operator): a family account's overdue bill pops on the payer, not on a child.

The subscriber master lists a family account (``FAM-1``) as one line per holder, the payer (Dan) and a child (Mia),
both stamped with the export's time. A fact of the account that names no holder (``PaymentOverdue`` with the account
number alone) reaches the customer who keeps the account. Without a role that is the holder whose line ranks first on
it, at equal event times the one whose event id hashes lower (``graph/limits.py``, ``event_rank``): with the source
system ``b`` Mia's, so the payer's overdue bill showed on the child's screen pop. A layout's ``holder_role`` column
(``adapters/legacy/roles.py``) names each line's role; a member's line ranks its account after every payer's
(``limits.key_rank``, ``LATE_BAND``), in every arrival order and on several partitions. Without a role column, a bills
export that names the payer beside the account still reaches the payer (docs/legacy-batch.md, "A family or joint
account: which holder's screen pop shows its bills").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from tests.processors.identity.graph.test_joint_holder_lines import PRODUCTS, held
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, replayed
from tests.processors.identity.support import matcher_settings as settings

AT = datetime(2026, 11, 3, 2, tzinfo=UTC)  # the export's time, every line
SOURCE = "b"  # names the event ids: with it the child's line ranks first on the account at equal times
SOURCES = (SOURCE, "billing")  # "billing": the payer's line ranks first at equal times
HOLDERS = {"payer": {"full_name": "Dan Shaw", "birth_date": "1975-06-02", "mobile": "07911 123411"},
           "child": {"full_name": "Mia Shaw", "birth_date": "2008-01-15", "mobile": "07911 123412"},
           "second": {"full_name": "Ann Shaw", "birth_date": "1977-03-09", "mobile": "07911 123413"}}
SEEDS = range(4)  # interleavings of the messages on several partitions


def _mapped(kind: str, fields: dict[str, str], line_id: str, at: datetime,
            source: str = SOURCE) -> list[tuple[Event, str]]:
    ctx = LegacyContext(source, BUSINESS, identity_topic=OBSERVED, phone_region="GB")
    return [(out.event, out.topic) for out in map_business(BusinessRecord(kind, fields, line_id, at), ctx).events]


def _line(who: str, role: str | None, *, at: datetime = AT, source: str = SOURCE,
          own: dict[str, str] | None = None) -> list[tuple[Event, str]]:
    """The master's line of ``who`` on FAM-1 (``role``: its ``holder_role`` column, None: the layout has none)."""
    fields = {"account_number": "FAM-1", "account_type": "family-mobile", **HOLDERS[who], **(own or {})}
    if role is not None:
        fields["holder_role"] = role
    return _mapped("AccountOpened", fields, f"batch:subscribers:key-{who}", at, source)


def _overdue(payer_fields: dict[str, str] | None = None, source: str = SOURCE) -> list[tuple[Event, str]]:
    return _mapped("PaymentOverdue", {"account_number": "FAM-1", "bill_id": "B-1", "amount_due": "42.00",
                                      "currency": "GBP", "due_date": "2026-11-01", **(payer_fields or {})},
                   "batch:overdue:key-b1", datetime(2026, 11, 10, tzinfo=UTC), source)


def _lands_on(h: Harness, overdue: list[tuple[Event, str]], people: list[str]) -> str:
    """Whose screen pop (one of ``people``) shows the overdue bill; the people are apart, one customer each. A bill
    applied to the account's keeper before another holder's line claimed the account follows the account."""
    customers = {who: root(h, h.customer("PHONE", f"+44{HOLDERS[who]['mobile'][1:].replace(' ', '')}") or "")
                 for who in people}
    assert all(customers.values()) and len(set(customers.values())) == len(people), customers
    (entry,) = PRODUCTS.entries(overdue[0][0])
    (showing,) = [who for who, customer in customers.items() if entry in held(h, customer)]
    return showing


def _arrivals(*units: list[tuple[Event, str]]) -> Iterator[list[tuple[Event, str]]]:
    """Every order of ``units`` (a line's business event and record, a bill), each line's two events in either order:
    an adapter publishes them together (a bill a week later that came between them would find the line's business
    event waiting for its record's traits past the join horizon, ``graph/contact_join.py``, as without roles)."""
    for order in itertools.permutations(units):
        for flips in itertools.product((False, True), repeat=len(units)):
            yield [item for unit, flip in zip(order, flips, strict=True) for item in (unit[::-1] if flip else unit)]


def _shown_on_in_every_order(lines: list[list[tuple[Event, str]]], overdue: list[tuple[Event, str]],
                             people: list[str]) -> set[str]:
    """Whose screen pops (of ``people``) show the overdue bill, over every arrival order of ``lines`` and the bill
    (``_arrivals``); each order's graph is checked consistent."""
    shown = set()
    for items in _arrivals(*lines, overdue):
        h = Harness(settings())
        feed(h, items)
        shown.add(_lands_on(h, overdue, people))
        h.local.check_consistent()
    return shown


def _overdue_lands_on(payer_fields: dict[str, str], roles: dict[str, str | None]) -> str:
    """``payer`` or ``child``: whose screen pop the overdue bill of the family account is on; ``payer_fields``: what
    the overdue line names of the payer besides the account (also on the payer's master line)."""
    h = Harness(settings())
    for who in ("payer", "child"):
        own = {"customer_id": payer_fields["customer_id"]} if who == "payer" and "customer_id" in payer_fields else {}
        feed(h, _line(who, roles[who], own=own))
    overdue = _overdue(payer_fields)
    feed(h, overdue)
    return _lands_on(h, overdue, ["payer", "child"])


def test_the_payers_overdue_bill_is_on_the_payers_screen_pop_not_the_childs() -> None:
    assert _overdue_lands_on({}, {"payer": "Bill payer", "child": "Child"}) == "payer"


@pytest.mark.parametrize("source", SOURCES)
def test_the_payer_keeps_the_account_in_every_arrival_order(source: str) -> None:
    """The payer's and the child's lines (each a business event and its record) and the overdue bill, in every order:
    the bill is on the payer's screen pop, also where it arrived before the payer's line (it follows the account)."""
    lines = [_line("payer", "payer", source=source), _line("child", "member", source=source)]
    assert _shown_on_in_every_order(lines, _overdue(source=source), ["payer", "child"]) == {"payer"}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("payer_first", [True, False], ids=["payer-first", "payer-last"])
def test_the_payer_keeps_the_account_on_three_partitions(payer_first: bool, seed: int) -> None:
    """The same on three partitions, the lines' messages interleaved, the payer's line before or after the child's."""
    payer, child = _line("payer", "payer"), _line("child", "member")
    overdue = _overdue()
    h = replayed(settings(), [*payer, *child, *overdue] if payer_first else [*child, *overdue, *payer],
                 partitions=3, seed=seed)
    assert _lands_on(h, overdue, ["payer", "child"]) == "payer"


def test_a_payer_line_later_than_the_childs_still_takes_the_account() -> None:
    """The child's line came in an earlier export (say when her line was added): the payer's later line ranks before
    it on the account all the same, whether it arrives before or after the bill."""
    child, payer = _line("child", "member", at=AT - timedelta(days=30)), _line("payer", "payer")
    assert _shown_on_in_every_order([child, payer], _overdue(), ["payer", "child"]) == {"payer"}


@pytest.mark.parametrize("source", SOURCES)
def test_joint_payers_keep_the_account_never_the_member(source: str) -> None:
    """Two payers (a couple on a joint bill) and a child: the earlier payer line keeps the account (as two holders'
    lines do without roles), never the child, in every order of the three lines."""
    second_at = AT + timedelta(hours=1)
    lines = [_line("payer", "payer", source=source), _line("second", "Bill payer", at=second_at, source=source),
             _line("child", "member", source=source)]
    assert _shown_on_in_every_order(lines, _overdue(source=source), ["payer", "second", "child"]) == {"payer"}


def test_a_family_whose_lines_name_no_payer_is_kept_by_its_earliest_line() -> None:
    """Member lines only (no payer known): the account stays with a holder, the earliest line's, in either order."""
    early, late = _line("child", "member", at=AT - timedelta(days=1)), _line("second", "member")
    assert _shown_on_in_every_order([early, late], _overdue(), ["child", "second"]) == {"child"}


def test_a_child_line_alone_keeps_the_account() -> None:
    h = Harness(settings())
    overdue = _overdue()
    feed(h, [*_line("child", "member"), *overdue])
    assert _lands_on(h, overdue, ["child"]) == "child"


@pytest.mark.xfail(strict=True, reason="payer33: the earliest payer line keeps the account; a revision of a line "
                   "that stops naming its holder the payer withdraws nothing yet (graph/record_lines.py)")
def test_a_payer_change_moves_the_account() -> None:
    """The next export names Ann the payer and Dan a member (each line a revision of the same line): the account,
    and a later overdue bill, go to Ann."""
    h = Harness(settings())
    feed(h, [*_line("payer", "payer"), *_line("second", "member")])
    later = AT + timedelta(days=30)
    feed(h, [*_line("payer", "member", at=later), *_line("second", "payer", at=later)])
    overdue = _mapped("PaymentOverdue", {"account_number": "FAM-1", "bill_id": "B-2", "amount_due": "42.00",
                                         "currency": "GBP", "due_date": "2026-12-20"},
                      "batch:overdue:key-b2", later + timedelta(days=20))
    feed(h, overdue)
    assert _lands_on(h, overdue, ["payer", "second"]) == "second"


@pytest.mark.parametrize("payer_fields", [{"mobile": "07911 123411"}, {"customer_id": "C-1"}], ids=["mobile", "cif"])
def test_a_bill_line_that_names_the_payer_beside_the_account_is_on_the_payers_screen_pop(
        payer_fields: dict[str, str]) -> None:
    """The way for a layout without a role column: the bills export names the payer's mobile or customer number on
    each line, and the bill reaches the payer through it (the two customers stay apart)."""
    assert _overdue_lands_on(payer_fields, {"payer": None, "child": None}) == "payer"
