"""tester28 F1: the identity graph's ids never carry an identifier value (README, "Nothing lost, nothing silent").

A token a node builds becomes the ``lineage.triggering_event_id`` of what it announces on ``customer.events`` and the
``correlation_id`` / ``causation_id`` of that announcement, also on ``customer.contacts`` (``announcements.py``):
``omnibus topics read`` prints them, and every subscriber keeps them. The tester saw
``hm:EMAIL:<the household's address>:cus_…:cus_…`` on a ``CustomerMerged`` (rule ``blocking-candidate``): the
housemate proposal of ``seek.propose_housemates`` was made of the identifier node's key (``TYPE:value``). The same
kind: a claim's token (``claim_node.claim_token``, the lineage of the dissolving ``CustomerMerged``), a contact
move's ``disown`` token (``release.moved_away``, the lineage of its ``LinkRefused``), and the lineage of a login's
split from a household mailbox told without an event (``login_leaves.on_household``). Each now carries the key's
``node_digest`` (``bus.envelope.key_digest``): the same for the same key, so copies are still recognised.

Only the fields by contract an identifier (``identifier``, ``identifiers``, a merge's or split's ``moved``: keys
``TYPE:value``, published as ``Identifier`` records) may hold one; every id, lineage and reason is scanned here.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from processors.identity.graph.context import node_digest
from processors.identity.graph.claim_again import claimed_event
from processors.identity.graph.messages.steps import Shared
from processors.identity.graph.outputs import Merged, Refused, Send, Split
from processors.identity.graph.state import CustomerState
from processors.identity.rules import BLOCKING_CANDIDATE, EARLIEST_CLAIM, MANUAL_RELEASE, MATCH_REVIEW
from schemas.enums import IDENTIFIER_TYPES
from tests.processors.identity.support import Harness, matcher_settings

# Fields that hold identifier keys by contract (published as ``Identifier`` records), not ids.
IDENTIFIER_FIELDS = {"identifier", "identifiers", "moved"}
SHORTEST = 6  # shorter values (a user id "u1") could match inside a hex digest by chance


def identifier_keys(h: Harness) -> set[str]:
    """The keys ``TYPE:value`` of every identifier node the run made (normalised: what a node's token used)."""
    return {key for key in h.local.store.nodes if key.partition(":")[0] in IDENTIFIER_TYPES}


def ids_of(decision: Any) -> Iterator[tuple[str, str]]:
    """(field, text) of every id, lineage and reason a decision publishes (``announcements.py``)."""
    if isinstance(decision, Send) or not dataclasses.is_dataclass(decision):
        return
    for name in ("event_id", "review_id"):
        if hasattr(type(decision), name):
            yield name, getattr(decision, name)
    for field in dataclasses.fields(decision):
        value = getattr(decision, field.name)
        if field.name in IDENTIFIER_FIELDS:
            continue
        if field.name == "lineage":
            yield "lineage.triggering_event_id", value.triggering_event_id
        elif isinstance(value, str):
            yield field.name, value


def leaks(h: Harness) -> list[tuple[str, str, str]]:
    """(decision, field, identifier kind) of every published id that carries an identifier key or value."""
    keys = identifier_keys(h)
    assert keys, "the run made no identifier"
    found = []
    for decision in h.local.decisions:
        for field, text in ids_of(decision):
            for key in keys:
                kind, _, value = key.partition(":")
                if key in text or (len(value) >= SHORTEST and value in text):
                    found.append((type(decision).__name__, field, kind))
    return found


def rules(h: Harness, kind: type) -> set[str]:
    return {d.lineage.rule for d in h.decisions(kind)}


# --- the sample: a household's shared e-mail, a member's portal login merged through the housemate proposal ---

def household_email_runs() -> Iterator[tuple[tuple[str, ...], Harness]]:
    """tester28's household: two billing lines with one e-mail, and each member's portal login with that e-mail and
    a first name, in every arrival order (``test_household_email``: Claire and Julien Moreau)."""
    from tests.processors.identity.graph.test_household_email import NAMED, household, run

    groups = household({"claire": NAMED["first name"], "julien": NAMED["first name"]})
    for order in itertools.permutations(sorted(groups)):
        yield order, run(groups, order)


def test_f1_the_household_email_merge_through_the_housemate_proposal_carries_no_email() -> None:
    """The tester's sample: in the orders where a login's own customer is merged into its member's through the
    e-mail's housemate proposal (rule ``blocking-candidate``, token ``hm:...``), no id names the e-mail."""
    proposals = 0
    for order, h in household_email_runs():
        merged = [d for d in h.decisions(Merged) if d.lineage.triggering_event_id.startswith("hm:")]
        proposals += len(merged)
        assert leaks(h) == [], order
        assert all(d.lineage.rule == BLOCKING_CANDIDATE for d in merged), order
        assert all(d.lineage.triggering_event_id.startswith("hm:key-") for d in merged), order
    assert proposals, "no order merged through the housemate proposal: the sample is not exercised"


# --- the rest of the kind: each token a node builds from an identifier's key ---------------------------------

def landline_runs() -> Iterator[Harness]:
    """tester17 M3: a housemate's call from the family landline with a first name only; the landline proposes the
    call's own customer with hers (``seek.propose_housemates``, ``hm:`` + the PHONE node)."""
    from tests.processors.identity.graph.test_seek_landline import household, ivr_call

    for order in itertools.permutations(("paul", "lea", "call")):
        blocks = {**household(), "call": ivr_call({"firstName": "Léa"})}
        h = Harness(matcher_settings())
        for name in order:
            for item in blocks[name]:
                h.feed(*item)
        yield h


def test_the_landline_housemate_proposal_carries_no_phone_number() -> None:
    merged = 0
    for h in landline_runs():
        merged += sum(d.lineage.triggering_event_id.startswith("hm:") for d in h.decisions(Merged))
        assert leaks(h) == []
    assert merged, "no run merged through the landline's proposal"


def test_a_claims_dissolving_merge_carries_no_phone_number() -> None:
    """A record and a call with the family phone alone made a customer; Bob's earlier event claims the phone and that
    customer merges into his (rule ``earliest-claim``, the claim's token as lineage: ``claim~<event>~<key>~...``)."""
    from bus.serde import Event
    from tests.processors.identity.graph.test_claim_node import ANN, BOB, PHONE, observe
    from tests.processors.identity.support import envelope, ident, interaction

    h = Harness(matcher_settings())
    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=5), "identifiers": [ident(*PHONE)], "traits": ANN,
    }), "identity.observed.v1")
    h.feed(interaction([PHONE], minutes=6, interaction_id="call-1"))
    observe(h, "2000002", BOB, 1)
    assert EARLIEST_CLAIM in rules(h, Merged)
    assert leaks(h) == []


def test_a_contact_moves_release_carries_no_phone_number() -> None:
    """tester24 F13: an operator moves Sophie's keypad call (Claire's customer number typed) off Claire; Claire
    stops being a user of the mobile the call alone brought (``release.moved_away``: ``LinkRefused`` rule
    ``manual-release`` with the move's token and the identifier)."""
    from tests.processors.identity.graph.test_joint_holders import feed
    from tests.processors.identity.graph.test_keypad_customer_number import billing_line, two_customers
    from tests.processors.identity.graph.test_move_contact_users import move, typed
    from tests.processors.identity.support import settings

    h = Harness(settings())
    feed(h, [*billing_line("sophie", 5), *billing_line("claire", 6), *typed()])
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None
    move(h, claire, sophie)
    assert MANUAL_RELEASE in rules(h, Refused)
    assert leaks(h) == []


def test_a_login_leaving_a_household_mailbox_told_without_an_event_carries_no_email() -> None:
    """A ``Shared(household=True)`` without an event id (as an earlier version sent it) makes the login leave for its
    own customer: the split's lineage names the mailbox by its digest, not its key."""
    from tests.processors.identity.graph.test_household_email import EMAIL, NAMELESS, billing_line, first_login
    from tests.processors.identity.graph.test_joint_holders import feed

    h = Harness(matcher_settings())
    feed(h, [*billing_line("claire", 2), *first_login("julien", 0, NAMELESS["email only"])])
    mailbox = h.key("EMAIL", EMAIL)
    [root] = [key for key, state in h.local.store.nodes.items()
              if isinstance(state, CustomerState) and mailbox in state.logins]
    h.local.submit([Send(root, Shared(mailbox, household=True))])
    h.local.run()
    [split] = [d for d in h.decisions(Split) if d.lineage.rule == MATCH_REVIEW]
    assert split.lineage.triggering_event_id == node_digest(mailbox)
    assert leaks(h) == []


# --- what the digest keeps: the same token for the same key, and tokens stored before are still read -----------

@pytest.mark.parametrize("key", ["PHONE:+33240000000", "EMAIL:a~b@example.fr", "USER_ID:u~1"])
@pytest.mark.parametrize("event_id", ["6c1f2a55-0000-4000-8000-000000000001", "alias~0123456789abcdef01234567"])
def test_a_claim_token_gives_back_its_event_id_whether_it_carries_the_digest_or_the_key(
        key: str, event_id: str) -> None:
    """``claim_again.claim_again`` claims again with the claim's event id: read from this version's tokens
    (the key's digest) and from those a state stored before (the key itself), with ``~`` in either part."""
    from processors.identity.graph.claim_node import claim_token

    assert claimed_event(claim_token(event_id, key, 2, 7), key) == event_id
    assert claimed_event(f"claim~{event_id}~{key}~2~7", key) == event_id
    assert claim_token(event_id, key, 2, 7) == claim_token(event_id, key, 2, 7)  # a copy keeps its token
    assert key not in claim_token(event_id, key, 2, 7)


def test_the_digest_is_deterministic_per_key_and_names_no_value() -> None:
    keys = ["EMAIL:foyer.moreau@example.fr", "PHONE:+33240000000", "EMAIL:foyer.moreau@example.com"]
    digests = [node_digest(key) for key in keys]
    assert digests == [node_digest(key) for key in keys] and len(set(digests)) == len(keys)
    assert all(digest.startswith("key-") and len(digest) == 36 for digest in digests)
    assert not any(key.partition(":")[2] in digest for key, digest in zip(keys, digests, strict=True))



# --- any run: households sharing a phone and an e-mail, their members' calls from the household phone -------------

@pytest.mark.parametrize("seed", range(4))
def test_no_id_of_a_households_run_carries_an_identifier(seed: int) -> None:
    """Households of three sharing a phone and an e-mail (``support.sharing_household_events``: merges, refusals,
    reviews, claims, copies), and calls from a household phone telling the caller's first name only (housemate
    proposals): whatever the graph decides, no id it publishes names an identifier."""
    import random

    from bus.serde import Event
    from tests.processors.identity.support import GIVEN_NAMES, observed, sharing_household_events

    rng = random.Random(seed)
    events, _ = sharing_household_events(rng, 9, 40)
    calls = []
    for index, person in enumerate(rng.sample(range(9), 6)):
        ivr = observed([("PHONE", f"139{person // 3:08d}")], channel="CALL_CENTER", minutes=100 + index)
        calls.append(Event(ivr.schema, {**ivr.value, "traits": {"given_name": GIVEN_NAMES[person]}}))
    mixed = [*events, *calls]
    rng.shuffle(mixed)
    h = Harness(matcher_settings())
    for event in mixed:
        h.feed(event, "identity.observed.v1" if event.schema.endswith("IdentifiersObserved") else "contact.events.v1")
    h.local.check_consistent()
    assert leaks(h) == []
