"""The verifier and a split's shared identifiers (tester22 F6): after an operator's wrong merge of two tenants and
its split, the flat's landline must name the split-off tenant as the recomputation (which replays neither) does."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bus.config import TopicSettings
from processors.identity.announcements import Announcer
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Send, Split
from processors.identity.graph.state import IdentifierState
from processors.profile.book import ProfileBook
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.verify.split_sharing import SPLIT_SHARING
from tests.processors.identity.support import interaction, matcher_settings, observed
from tests.processors.verify.operator_runs import Command, Run
from tests.processors.verify.support import CONTACTS_IN, EVENTS, INPUT, SETTINGS, record
from tests.processors.verify.test_merges import merged
from tests.processors.verify.test_reviews import checked, outputs_of

LANDLINE = ("PHONE", "+33478112233")
TENANTS = [  # Bruno's record first: he keeps the landline; Alice and Chloé are kept apart through it
    ("EL-100020", "bruno.leroy@example.net", {"given_name": "Bruno", "family_name": "Leroy", "birth_date": "1975-07-02"}),
    ("EL-100001", "alice.martin@example.net", {"given_name": "Alice", "family_name": "Martin",
                                               "birth_date": "1980-03-14"}),
    ("EL-100030", "chloe.girard@example.net", {"given_name": "Chloé", "family_name": "Girard",
                                               "birth_date": "1992-06-15"}),
]


def tenants() -> Recomputed:
    inputs = []
    for offset, (account, email, traits) in enumerate(TENANTS):
        event = observed([("ACCOUNT", account), ("EMAIL", email), LANDLINE], event_id=f"e{offset}", minutes=offset)
        event.value["traits"] = traits
        inputs.append(record(INPUT, account, event, offset))
    return recompute(inputs, SETTINGS, matcher_settings(), ProfileBook([]))


def keys(run: Recomputed, index: int) -> list[str]:
    return sorted(key for key in run.identifiers_of[f"e{index}"] if not key.startswith("PHONE:"))


def merged_and_split(run: Recomputed) -> list[Replayed]:
    """The operator's merge of Alice and Chloé, then the split of Chloé's account and e-mail; their announcements."""
    events = merged(run, keys(run, 1)[0], keys(run, 2)[0])
    graph = run.graph
    graph.submit([Send(str(graph.customer_of(keys(run, 2)[0])), SplitCustomer(keys(run, 2), "wrong merge", "split-1",
                                                                              10**15))])
    graph.run()
    announcer = Announcer(TopicSettings(prefix="v"), lambda ref: None)  # type: ignore[arg-type,return-value]
    split = [item.event for d in graph.decisions if isinstance(d, Split) for item in announcer.outgoing(d)]
    return events + [Replayed(EVENTS, 0, 200 + offset, b"c", event) for offset, event in enumerate(split)]


def test_a_split_off_tenant_the_landline_names_again_passes() -> None:
    recomputed, running = tenants(), tenants()
    events = merged_and_split(running)
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=events))
    check = report.check(SPLIT_SHARING)
    assert check.checked == 1 and not check.failures, report.lines()


def test_a_landline_that_no_longer_names_the_split_off_tenant_fails() -> None:
    """The table as F6 left it: the landline's node names Alice's customer and Chloé's old id, not her new one."""
    recomputed, running = tenants(), tenants()
    events = merged_and_split(running)
    chloe = running.graph.customer_of(keys(running, 2)[0])
    phone = running.graph.store.nodes[f"{LANDLINE[0]}:{LANDLINE[1]}"]
    assert isinstance(phone, IdentifierState) and chloe in phone.kept_apart
    phone.kept_apart = [customer for customer in phone.kept_apart if customer != chloe]
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=events))
    (failure,) = report.check(SPLIT_SHARING).failures
    assert "PHONE:" in failure and str(chloe) in failure


BROWSER_KINDS = ("ANONYMOUS_ID", "DEVICE", "USER_ID")


def tenants_and_alices_browser(kind: str) -> Run:
    """The three tenants, then Alice's browser (an id of ``kind`` with her e-mail and her traits, as an identify
    call sends them): the matcher joins it to her customer, which is kept apart from Bruno's through the landline."""
    run = Run(config=matcher_settings())
    for offset, (account, email, traits) in enumerate(TENANTS):
        event = observed([("ACCOUNT", account), ("EMAIL", email), LANDLINE], minutes=offset)
        event.value["traits"] = traits
        run.feed(event)
    event = observed([(kind, "browser-1"), ("EMAIL", TENANTS[1][1])], minutes=5)
    event.value["traits"] = TENANTS[1][2]
    run.feed(event)
    assert run.customer(kind, "browser-1") == run.customer("EMAIL", TENANTS[1][1])
    return run


@pytest.mark.parametrize("kind", BROWSER_KINDS)
def test_a_split_off_browser_whose_events_never_carried_the_landline_is_not_wanted_on_it(kind: str) -> None:
    """F7: the operator splits Alice's browser id off (someone else used it): the new customer's events never carried
    the landline, yet verify wanted the landline to name it ("the events of customer ... carried it"), because the
    recomputation's customer of the browser id (Alice's, which no split parts there) is kept apart through it."""
    run = tenants_and_alices_browser(kind)
    run.split((kind, "browser-1"))
    report = run.verified()
    assert report.ok, report.lines()
    assert report.check(SPLIT_SHARING).checked == 1


def test_a_split_off_tenant_is_still_wanted_on_the_landline_her_events_carried() -> None:
    """The reverse split of the same customer: Alice's account and e-mail (whose events carried the landline) off,
    her browser id staying: the landline names her new customer, and a table where it does not still fails."""
    run = tenants_and_alices_browser("DEVICE")
    run.split(("ACCOUNT", TENANTS[1][0]), ("EMAIL", TENANTS[1][1]))
    report = run.verified()
    assert report.ok, report.lines()
    alice = run.customer("ACCOUNT", TENANTS[1][0])
    phone = run.harness.local.store.nodes[run.harness.key(*LANDLINE)]
    assert isinstance(phone, IdentifierState) and alice in phone.kept_apart
    phone.kept_apart = [customer for customer in phone.kept_apart if customer != alice]
    (failure,) = run.verified().check(SPLIT_SHARING).failures
    assert "PHONE:" in failure and alice in failure


HOUSEHOLD_COMMANDS: dict[str, Command] = {
    "merge": lambda run: run.merge(("ACCOUNT", TENANTS[1][0]), ("ACCOUNT", TENANTS[2][0])),  # Alice and Chloé
    "move": lambda run: run.move("LANDLINE-CALL", ("ACCOUNT", TENANTS[1][0])),  # Bruno's call was Alice's
    "split": lambda run: run.split(("DEVICE", "browser-1")),
}


@pytest.mark.parametrize("order", list(itertools.permutations(HOUSEHOLD_COMMANDS)), ids="-".join)
def test_every_order_of_merge_move_and_split_in_the_household_verifies(order: tuple[str, ...]) -> None:
    """F7's search: an operator's merge of two tenants, a move of a call from the landline (on its keeper) to one of
    them, the split of a browser id off her, in every order, verify as the graph placed them."""
    run = tenants_and_alices_browser("DEVICE")
    run.feed(interaction([LANDLINE], interaction_id="LANDLINE-CALL", minutes=6), CONTACTS_IN)
    for name in order:
        HOUSEHOLD_COMMANDS[name](run)
    report = run.verified()
    assert report.ok, report.lines()
