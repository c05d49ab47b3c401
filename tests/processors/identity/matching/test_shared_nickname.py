"""Twins are not merged through a nickname both their names share (tester17 S1).

Robert and William Mercier, twins (one birth date, one address, a phone each), then a web identify as "Bill Mercier"
(the same birth date, postcode and street, an e-mail of his own): ``nicknames`` lists "bill" under both Robert and
William, so the record was close to both, and two blocking-candidate merges put the three on one customer: the second
compared Robert with the survivor's "bill" and not with its "william". Likewise Elizabeth and Melissa Noel through
"Lisa". A customer's given names are all compared (``compare.conflicting_given``): "Bill" joins one twin, never both.
"""

from __future__ import annotations

from itertools import permutations

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Merged
from processors.identity.matching.compare import Level, trait_levels
from processors.identity.matching.traits import Summary, combine, summarize
from tests.processors.identity.matching.test_nicknames import counter, feed, identify
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

TWINS = {  # family name, birth date, the twins' given names, the shared nickname
    "mercier": ("Mercier", "1983-09-21", ("Robert", "William"), "Bill"),
    "noel": ("Noel", "1990-05-05", ("Elizabeth", "Melissa"), "Lisa"),
}
PHONES = ("06 41 00 00 41", "06 41 00 00 42")
E164 = ("+33641000041", "+33641000042")


def household(family: str, birth: str, names: tuple[str, str], nickname: str) -> list[list[Event]]:
    """Each twin's counter record (a phone of their own), then the portal identify under the nickname."""
    place = {"family_name": family, "birth_date": birth, "postcode": "56000", "address_line": "10 rue I"}
    twins = [counter(f"tx-{name}", phone, {**place, "given_name": name})
             for name, phone in zip(names, PHONES, strict=True)]
    web = identify("w-nick", nickname, family, birth, f"{nickname.lower()}.{family.lower()}@example.org", "10 rue I",
                   "56000")
    return [*twins, web]


@pytest.mark.parametrize("order", list(permutations(range(3))))
@pytest.mark.parametrize("case", sorted(TWINS))
def test_a_nickname_of_both_twins_joins_one_of_them_never_both(case: str, order: tuple[int, ...]) -> None:
    """Every arrival order of the three records: the twins stay two customers, the nickname's record on one of them
    (or its own), at most one merge."""
    events = household(*TWINS[case])
    h = Harness(settings(default_region="FR"))
    for index in order:
        feed(h, events[index])
    h.local.check_consistent()
    first, second = (h.customer("PHONE", phone) for phone in E164)
    assert first is not None and second is not None and first != second
    assert h.customer("USER_ID", "w-nick") is not None
    assert len(h.decisions(Merged)) <= 1


def holding(names: tuple[str, ...]) -> Summary:
    """The summary of a customer whose records carried these given names."""
    out: Summary = {}
    for name in names:
        out = combine(out, summarize({"given_name": name}))
    return out


@pytest.mark.parametrize(("held", "other"), [
    (("Bill", "William"), ("Robert",)), (("Lisa", "Elizabeth"), ("Melissa",)),
    (("Bill", "William"), ("Bill", "Robert")),  # each twin seen once as "Bill": still two people
    (("Bill", "William"), ("Bob",)),  # Robert's nickname against William's customer
])
def test_a_customer_s_real_name_vetoes_agreement_through_another_of_its_names(held: tuple[str, ...],
                                                                             other: tuple[str, ...]) -> None:
    assert trait_levels(holding(held), holding(other))["given_name"] is Level.DIFFERENT


@pytest.mark.parametrize(("held", "other", "level"), [
    (("Jean", "Pierre"), ("Jean",), Level.EXACT),  # one person known by two real names agrees with either
    (("Bill", "William"), ("Will",), Level.CLOSE),  # William's nicknames all
    (("Bill", "William"), ("William",), Level.EXACT),
])
def test_names_one_side_holds_on_its_own_do_not_conflict(held: tuple[str, ...], other: tuple[str, ...],
                                                         level: Level) -> None:
    assert trait_levels(holding(held), holding(other))["given_name"] is level
