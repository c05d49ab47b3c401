"""``omnibus identity move-contact`` refuses a move that would move nothing (tester22 F8 addendum): it exited 0 and
the graph's ``ContactMoved`` had ``moved_event_ids: []`` for a contact that stood on no customer."""

from __future__ import annotations

import itertools

import pytest
import typer

from bus.serde import Event
from processors.identity.graph.outputs import ContactMoved
from processors.identity.move_check import contact_customers, refuse_elsewhere, shown_id
from processors.profile.limits import short_key
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import interaction, observed
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, record
from tests.processors.verify.test_contacts_moves import COMMANDS as MOVES_COMMANDS
from tests.processors.verify.test_contacts_moves import bob_calls_carl_answers

CALL = interaction([("PHONE", "+33478112233")], interaction_id="t22-call-hugo")


def test_a_contact_stands_on_the_customer_it_was_placed_on() -> None:
    records = [record(CONTACTS, "cus_bruno", CALL, 0)]
    assert contact_customers(records, "t22-call-hugo") == {"cus_bruno"}
    assert contact_customers(records, "another-call") == set()


def test_a_move_from_a_customer_the_contact_is_not_on_exits_1_and_says_where_it_is(
        capsys: pytest.CaptureFixture[str]) -> None:
    records = [record(CONTACTS, "cus_bruno", CALL, 0)]
    refuse_elsewhere("t22-call-hugo", "cus_bruno", records)  # there: goes on
    for source, says in (("cus_hugo", "but on 1 other customer: cus_bruno"), ("cus_bruno", "on no customer")):
        with pytest.raises(typer.Exit) as exited:
            refuse_elsewhere("t22-call-hugo" if source == "cus_hugo" else "lost-call", source, records)
        assert exited.value.exit_code == 1
        err = capsys.readouterr().err
        assert says in err and "nothing to move" in err


# F3: ``move-contact`` answered that a contact "is not on" a customer whose screen pop showed it. Every contact id a
# screen pop shows is accepted from that customer, and the graph's move from there moves it.
ANN = [("ACCOUNT", "ACC-ANN"), ("EMAIL", "ann@f3.example")]
BOB = [("ACCOUNT", "ACC-BOB"), ("PHONE", "+33611111111")]
CARL = [("ACCOUNT", "ACC-CARL")]


def reused(event_id: str | None, interaction_id: str) -> Event:
    """Carl's web contact, sent with an event id or a contact id another contact had already (a messageId reused
    after the adapter forgot it: event ids derive from the source and the messageId)."""
    event = interaction([CARL[0]], channel="WEB", interaction_id=interaction_id, minutes=6)
    if event_id is not None:
        event.value["envelope"]["event_id"] = event_id
    return event


def shown_and_accepted(run: Run) -> list[tuple[str, str]]:
    """Every (customer, contact id) a screen pop shows that ``move-contact --from`` that customer refuses."""
    records = run.outputs().contacts
    return [(customer, shown) for customer in run.harness.local.store.nodes if customer.startswith("cus_")
            for shown in contact_ids(run.harness, customer) if customer not in contact_customers(records, shown)]


REUSES = {"same event id and contact id": True, "same event id, another contact id": False}


@pytest.mark.parametrize("same_contact", REUSES.values(), ids=list(REUSES))
def test_a_contact_id_a_screen_pop_shows_is_accepted_from_that_customer(same_contact: bool) -> None:
    run = Run()
    for minutes, identifiers in enumerate((ANN, BOB, CARL)):
        run.feed(observed(identifiers, minutes=minutes))
    first = run.feed(interaction([BOB[1]], channel="WEB", interaction_id="MSG-1", minutes=5), CONTACTS_IN)
    run.feed(reused(first, "MSG-1" if same_contact else "MSG-2"), CONTACTS_IN)
    bob, carl = run.customer(*BOB[0]), run.customer(*CARL[0])
    assert contact_ids(run.harness, bob) == ["MSG-1"]
    assert shown_and_accepted(run) == []
    run.move("MSG-1", ANN[0], source=bob)
    (moved,) = run.harness.decisions(ContactMoved)
    assert moved.moved == (first,) and contact_ids(run.harness, bob) == []
    assert shown_and_accepted(run) == []
    assert (carl in contact_customers(run.outputs().contacts, "MSG-1")) == same_contact


@pytest.mark.parametrize("order", list(itertools.permutations(MOVES_COMMANDS)), ids="-".join)
def test_after_every_command_each_shown_contact_id_is_accepted_from_its_screen_pop(order: tuple[str, ...]) -> None:
    """F4's commands in every order (merge, move-contact, split; the moved call's copies, the split's, a merge):
    after each one, every contact id a screen pop shows is accepted from that customer."""
    run = bob_calls_carl_answers()
    for name in order:
        MOVES_COMMANDS[name](run)
        assert shown_and_accepted(run) == [], name


def test_an_event_id_given_for_the_contact_id_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    records = [record(CONTACTS, "cus_bruno", CALL, 0)]
    event_id = CALL.value["envelope"]["event_id"]
    with pytest.raises(typer.Exit) as exited:
        refuse_elsewhere(event_id, "cus_bruno", records)
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {event_id} is the event id of one of contact t22-call-hugo's events; move-contact takes the contact "
        "id the screen pop shows (recent_contacts[].id): t22-call-hugo")


def test_a_contact_id_longer_than_the_screen_pop_shows_is_accepted_as_sent_and_as_shown() -> None:
    sent = "ctr-" + "7" * 200
    call = interaction([("PHONE", "+33478112233")], interaction_id=sent)
    records = [record(CONTACTS, "cus_bruno", call, 0)]
    assert short_key(sent) != sent
    assert contact_customers(records, sent) == contact_customers(records, short_key(sent)) == {"cus_bruno"}
    assert shown_id(f" {sent}\n") == shown_id(short_key(sent)) == short_key(sent)  # what the command sends
