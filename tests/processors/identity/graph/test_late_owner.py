"""A contact placed on a household's keeper because its own identifier was nobody's yet follows that identifier to its
first owner (``late_owner.py``; tester20 F1's kind, issue #8 point 5).

Ann's and Bob's records (each with a user id and traits) carry one household identifier (a landline, a family e-mail,
a family account), which Ann keeps. A trait-less contact carries it and Bob's own identifier that nobody holds yet:
it reaches a customer only through the household's, so it lands on Ann and leaves Bob's unowned
(``deciding.untold_through_shared``). Bob's later record makes that identifier his: the contact ends on Bob, as it
does when his record comes first, whatever the types, the partitions and duplicate deliveries. With a landline and
an account or card nobody holds, the contact makes its own customer instead (``deciding.past_the_line``), which Bob's
record joins: it ends on Bob without a move.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import ContactMoved
from processors.identity.rules import LATE_OWNER
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED
from tests.processors.identity.graph.test_family_plan import landed
from tests.processors.identity.graph.test_move_contact import moves_name_their_source
from tests.processors.identity.graph.test_seek import contact_ids, root
from tests.processors.identity.support import Harness, envelope, ident, interaction, matcher_settings

ANN = {"given_name": "Ann", "family_name": "Moreau", "birth_date": "1971-05-02", "postcode": "75011"}
BOB = {"given_name": "Bob", "family_name": "Moreau", "birth_date": "1968-11-19", "postcode": "75011"}
# (the household's identifier, Bob's own one that the contact carries before his record does)
KINDS = [
    (("PHONE", "+33147001122"), ("ACCOUNT", "ACC-BOB-7")),
    (("EMAIL", "famille.moreau@example.fr"), ("PHONE", "+33622000042")),
    (("ACCOUNT", "FAM-7"), ("EMAIL", "bob.moreau@example.fr")),
    (("PHONE", "+33147001122"), ("CARD", "4970101234567893")),
]
CONTACT_ID = "c-late-owner"


def record(user: str, traits: dict[str, str], minutes: int, *identifiers: tuple[str, str]) -> tuple[Event, str]:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("BRANCH", minutes=minutes),
        "identifiers": [ident("USER_ID", user), *(ident(*i) for i in identifiers)], "traits": traits}), OBSERVED


def blocks(kind: Any) -> list[tuple[Event, str]]:
    """Ann's and Bob's household records (0, 1), the contact (2, a day later) and Bob's own record (3, later still)."""
    household, own = kind
    return [record("u-ann", ANN, 0, household), record("u-bob", BOB, 1, household),
            (interaction([household, own], minutes=1440, interaction_id=CONTACT_ID), CONTACTS),
            record("u-bob", BOB, 1500, own)]


def placed(h: Harness) -> tuple[str, str, set[str]]:
    """Ann's and Bob's customers, and the customers whose screen pop shows the contact."""
    h.local.check_consistent()
    ann, bob = (root(h, h.customer("USER_ID", user) or "") for user in ("u-ann", "u-bob"))
    assert ann and bob and ann != bob
    return ann, bob, {customer for customer in (ann, bob) if CONTACT_ID in contact_ids(h, customer)}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0][0]}-{k[1][0]}")
def test_the_contact_ends_on_the_owner_of_its_own_identifier_whichever_came_first(kind: Any) -> None:
    items = blocks(kind)
    for order in itertools.permutations(range(4)):
        if order.index(2) < max(order.index(0), order.index(1)):
            continue  # the contact before the household's second person: not untold through a household (not here)
        h = Harness(matcher_settings())
        for index in order:
            h.feed(*items[index])
        ann, bob, shown = placed(h)
        assert shown == {bob}, order
        assert h.customer(*kind[1]) == bob and h.customer(*kind[0]) == ann, order
        moved = h.decisions(ContactMoved)
        if kind[0][0] == "PHONE" and order.index(2) < order.index(3):
            # a landline and an account or card nobody holds: the contact makes its own customer, which Bob's record
            # joins (``deciding.past_the_line``), so it never sat on Ann
            assert landed(h, [items[2]]) == {bob} and not moved, order
        elif order.index(2) < order.index(3):  # placed on Ann first, then moved to Bob with its identifier
            assert landed(h, [items[2]]) == {ann, bob}, order
            assert [(m.source_id, root(h, m.target_id), m.lineage.rule) for m in moved] == [(ann, bob, LATE_OWNER)]
            assert moves_name_their_source(h) > 0, order  # its copies under Bob carry the header naming Ann
        else:
            assert landed(h, [items[2]]) == {bob} and not moved, order


@pytest.mark.parametrize("kind", KINDS[:2], ids=lambda k: f"{k[0][0]}-{k[1][0]}")
@pytest.mark.parametrize("partitions,seed,duplicates", [(12, 3, 0.2), (5, 11, 0.3)])
@pytest.mark.parametrize("contact_first", [True, False], ids=["contact first", "record first"])
def test_the_contact_and_the_record_interleaved_on_partitions_with_duplicates(
        kind: Any, partitions: int, seed: int, duplicates: float, contact_first: bool) -> None:
    """The household's records settled, then the contact and Bob's record at once, shuffled: one move at most (with
    the landline, the contact submitted first is moved in these draws)."""
    items = blocks(kind)
    h = Harness(matcher_settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    for item in items[:2]:
        h.feed(*item)
    for item in items[2:] if contact_first else (items[3], items[2]):
        h.feed(*item, settle=False)
    h.local.run()
    _, bob, shown = placed(h)
    assert shown == {bob}
    assert len({m.event_id for m in h.decisions(ContactMoved)}) <= 1


def test_nothing_moves_when_the_identifier_becomes_the_keepers() -> None:
    """Ann's own later record takes the identifier the contact left unowned: the contact stays on her."""
    household, own = KINDS[0]
    items = blocks(KINDS[0])[:3] + [record("u-ann", ANN, 1500, own)]
    h = Harness(matcher_settings())
    for item in items:
        h.feed(*item)
    ann, _, shown = placed(h)
    assert shown == {ann} and h.customer(*own) == ann and not h.decisions(ContactMoved)
