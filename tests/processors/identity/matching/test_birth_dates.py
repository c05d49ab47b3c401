"""A birth date with two neighbouring digits of the year swapped is one person's typo (tester18 F10).

Two counter records with one name, address and phone, born 1957-04-12 and 1975-04-12, made two customers and no
review: the date compared *different* (two digits off), the birth date's veto refused the merge. Two digits swapped is
one typing slip (``compare.date_level``: *close*, weighed as the other typos of a date, ``defaults.py``): one customer.
"""

from __future__ import annotations

import itertools

import pytest

from processors.identity.graph.outputs import Refused, ReviewRequested
from tests.processors.identity.matching.test_namesakes import with_traits
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

PLACE = {"given_name": "Gérard", "family_name": "Lemoine", "address_line": "8 rue des Tanneurs", "postcode": "67000"}
PHONE = ("PHONE", "+33388112233")
RECORDS = {  # an account of each record's own, the one phone
    "1957": ([("ACCOUNT", "ACC-GL-1"), PHONE], {**PLACE, "birth_date": "1957-04-12"}),
    "1975": ([("ACCOUNT", "ACC-GL-2"), PHONE], {**PLACE, "birth_date": "1975-04-12"}),
}


@pytest.mark.parametrize("order", list(itertools.permutations(RECORDS)), ids="-".join)
def test_a_birth_year_with_two_digits_swapped_is_one_customer(order: tuple[str, ...]) -> None:
    h = Harness(settings(default_region="FR"))
    for minutes, name in enumerate(order):
        identifiers, traits = RECORDS[name]
        h.feed(with_traits(identifiers, traits, minutes=minutes))
    h.local.check_consistent()
    assert h.customer("ACCOUNT", "ACC-GL-1") == h.customer("ACCOUNT", "ACC-GL-2") is not None
    assert not h.decisions(Refused) and not h.decisions(ReviewRequested)
