"""An operator's split stays when a later split moves the identifiers it parted (found by F7's search).

Three tenants; Alice's browser (a device seen with her e-mail and her traits) joins her customer. The operator splits
Alice's account and e-mail off her browser (someone else's browser, say), later merges her with Bruno by mistake, then
splits Alice's account and e-mail (with Bruno's browser) off Bruno again. The new customer of that last split was kept
apart from its source only: the matcher found Alice's browser's customer by her traits and merged it into the new
customer, undoing the first split ("what an operator split apart stays apart" failed in ``omnibus verify``). A split's
new customer is kept apart from every customer an operator split off its source before (``SplitInit.do_not_merge``).
"""

from __future__ import annotations

from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Send, Split
from processors.identity.graph.state import CustomerState
from tests.processors.identity.support import Harness, matcher_settings, observed

LANDLINE = ("PHONE", "+33478112233")
TENANTS = [("Bruno", "Leroy", "1975-07-02"), ("Alice", "Martin", "1980-03-14"), ("Chloe", "Girard", "1992-06-15")]


def traits(index: int) -> dict[str, str]:
    given, family, born = TENANTS[index]
    return {"given_name": given, "family_name": family, "birth_date": born}


def tenants_and_browsers() -> Harness:
    h = Harness(matcher_settings())
    for index, (given, _, _) in enumerate(TENANTS):
        event = observed([("ACCOUNT", f"EL-{index}"), ("EMAIL", f"{given.lower()}@t.example"), LANDLINE],
                         minutes=index)
        event.value["traits"] = traits(index)
        h.feed(event, "identity.observed.v1")
    for index in (0, 1):  # Bruno's and Alice's browsers
        event = observed([("DEVICE", f"br-{index}"), ("EMAIL", f"{TENANTS[index][0].lower()}@t.example")],
                         minutes=10 + index)
        event.value["traits"] = traits(index)
        h.feed(event, "identity.observed.v1")
    assert h.customer("DEVICE", "br-1") == h.customer("ACCOUNT", "EL-1")
    return h


def split(h: Harness, owner: tuple[str, str], *identifiers: tuple[str, str]) -> None:
    customer = h.customer(*owner)
    assert customer is not None
    n = len(h.decisions(Split))
    h.local.submit([Send(customer, SplitCustomer([h.key(*i) for i in identifiers], "wrong", f"split-{n}", 10**15 + n))])
    h.local.run()
    assert len(h.decisions(Split)) == n + 1


def merge(h: Harness, first: tuple[str, str], second: tuple[str, str]) -> None:
    from processors.identity.graph.messages.steps import Visit
    from processors.identity.graph.saga import merge_saga

    saga = merge_saga("merge-1", sorted([h.key(*first), h.key(*second)]), "ops-3", "one person")
    h.local.submit([Send(saga.ids[0], Visit(saga))])
    h.local.run()


def test_a_later_split_does_not_let_the_matcher_undo_an_earlier_one() -> None:
    h = tenants_and_browsers()
    alice = [("ACCOUNT", "EL-1"), ("EMAIL", "alice@t.example")]
    split(h, ("ACCOUNT", "EL-0"), LANDLINE)  # the flat's line off Bruno
    split(h, alice[0], *alice)  # off her browser
    assert h.customer("DEVICE", "br-1") != h.customer(*alice[0])
    merge(h, alice[0], ("ACCOUNT", "EL-0"))  # by mistake, with Bruno
    split(h, alice[0], *alice, ("DEVICE", "br-0"))
    assert h.customer("DEVICE", "br-1") != h.customer(*alice[0])  # the matcher merged them back before
    new = h.local.store.nodes[str(h.customer(*alice[0]))]
    assert isinstance(new, CustomerState) and new.do_not_merge[0] == h.customer("ACCOUNT", "EL-0")  # source first
    h.local.check_consistent()
