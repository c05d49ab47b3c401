"""The verifier and a contact through a shared identifier alone (F7's search, ``shared_after``): a call with no IVR
traits from a landline four tenants' records carried links nobody (the screen pop's ``links: false``), by design on
no customer; verify failed it as lost ("carried 1 identifier(s) and is on no customer"). It is counted, not failed;
a contact with an identifier that links is still lost when it is on no customer."""

from __future__ import annotations

import itertools

import pytest

from processors.verify.contacts import THROUGH_SHARED_ONLY
from tests.processors.identity.support import interaction, matcher_settings, observed
from tests.processors.verify.operator_runs import Command, Run
from tests.processors.verify.support import CONTACTS_IN

LANDLINE = ("PHONE", "+33478112233")
TENANTS = [("Bruno", "Leroy", "1975-07-02"), ("Alice", "Martin", "1980-03-14"), ("Chloe", "Girard", "1992-06-15"),
           ("Denis", "Petit", "1968-11-30")]


def account(index: int) -> tuple[str, str]:
    return ("ACCOUNT", f"EL-{index}")


def household(people: int) -> Run:
    """``people`` tenants' records (account, e-mail, the landline, their traits), then a call from the landline with
    nothing from the IVR."""
    run = Run(config=matcher_settings())
    for index, (given, family, born) in enumerate(TENANTS[:people]):
        event = observed([account(index), ("EMAIL", f"{given.lower()}@f7.example"), LANDLINE], minutes=index)
        event.value["traits"] = {"given_name": given, "family_name": family, "birth_date": born}
        run.feed(event)
    run.feed(interaction([LANDLINE], interaction_id="LANDLINE-CALL", minutes=10), CONTACTS_IN)
    return run


def test_a_call_through_a_landline_past_shared_after_is_counted_not_lost() -> None:
    report = household(4).verified()
    assert report.ok, report.lines()
    assert report.figures[THROUGH_SHARED_ONLY] == 1 and report.figures["lost"] == 0
    assert [line.split()[0] for line in report.items[THROUGH_SHARED_ONLY]] == ["contact"]  # listed (tester25 F8)


def test_a_call_through_a_landline_that_still_links_is_on_its_keeper_and_no_figure() -> None:
    report = household(3).verified()
    assert report.ok, report.lines()
    assert THROUGH_SHARED_ONLY not in report.figures


def test_a_contact_through_a_linking_identifier_on_no_customer_is_still_lost() -> None:
    run = household(4)
    run.feed(interaction([("EMAIL", "alice@f7.example")], interaction_id="ALICE-CALL", minutes=11), CONTACTS_IN)
    outputs = run.outputs()
    outputs.contacts = [r for r in outputs.contacts if r.event is None
                        or r.event.value.get("interaction_id") != "ALICE-CALL"]
    report = run.check(outputs)
    assert not report.ok and report.figures["lost"] == 1
    assert report.figures[THROUGH_SHARED_ONLY] == 1


COMMANDS: dict[str, Command] = {
    "merge": lambda run: run.merge(account(1), account(2)),
    "move": lambda run: run.move("ALICE-CALL", account(3)),
    "split": lambda run: run.split(("EMAIL", "chloe@f7.example"), account(2)),
}


@pytest.mark.parametrize("order", list(itertools.permutations(COMMANDS)), ids="-".join)
def test_every_order_of_merge_move_and_split_in_a_shared_household_verifies(order: tuple[str, ...]) -> None:
    run = household(4)
    run.feed(interaction([("EMAIL", "alice@f7.example")], interaction_id="ALICE-CALL", minutes=11), CONTACTS_IN)
    for name in order:
        COMMANDS[name](run)
    report = run.verified()
    assert report.ok, report.lines()
