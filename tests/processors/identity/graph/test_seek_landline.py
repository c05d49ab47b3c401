"""Tester17 M3: a housemate's IVR call from the family landline is hers in every arrival order (``seek.py``,
``contest.carried_by_both``).

Paul and Léa identify on the web (the web adapter's Segment mapper), each with an own user id and the family landline,
Léa with her e-mail too, each with an own name and birth date; Paul's identify is the earlier, so his customer keeps
the landline and Léa's is kept apart through it. Léa then calls from the landline and the IVR takes her first name and
birth date only (an Amazon Connect CTR through the call-center mapper: two contact events and the IVR's
``IdentifiersObserved``). Where her customer was on the landline when the call sought there, it took the call; where
it was not yet (her identify on another partition, still on its way), the call made a customer of its own, which
blocking proposed with hers and the matcher weighed from the population's prior, as two records met on traits alone
(1.5 bits: a review, and the call on a customer without identifiers: 14 of 30 households at 8 senders). Both had
carried the landline: the pair is weighed as met through it, merges, and the call is on Léa's screen pop in every
order, with no review.
"""

from __future__ import annotations

import itertools
import json
import zlib

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from bus.serde import Event
from processors.identity.graph.outputs import ReviewRequested
from processors.identity.graph.state import IdentifierState
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED, segment
from tests.processors.identity.graph.test_family_plan import landed
from tests.processors.identity.graph.test_seek import contact_ids, root
from tests.processors.identity.support import Harness, envelope, matcher_settings

LANDLINE = "+33 2 40 00 00 00"  # the tester's household 0, as typed
PAUL = ("hh-a0", {"firstName": "Paul", "lastName": "Martin", "birthday": "1970-04-02", "phone": LANDLINE})
LEA = ("hh-b0", {"firstName": "Léa", "lastName": "Durand", "birthday": "1999-08-15", "phone": LANDLINE,
                 "email": "lea.durand@example.net"})
CALL_ID = "c-m3-0"

Item = tuple[Event, str]


def identify(person: tuple[str, dict[str, str]], minutes: int) -> Item:
    user, traits = person
    [item] = segment({"type": "identify", "userId": user, "messageId": f"id-{user}", "traits": traits})
    item[0].value["envelope"]["occurred_at"] = envelope(minutes=minutes)["occurred_at"]
    return item


def ivr_call(attributes: dict[str, str] | None = None) -> list[Item]:
    """Léa's Connect CTR from the landline, a day after the identifies: the IVR took her first name and birth date
    (or only ``attributes``)."""
    attributes = attributes or {"firstName": "Léa", "dateOfBirth": "1999-08-15"}
    record = ctr(ContactId=CALL_ID, CustomerEndpoint={"Address": LANDLINE, "Type": "TELEPHONE_NUMBER"},
                 Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T", "2025-03-02T"))
    return [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in map_ctr(native, context()).events]


def household() -> dict[str, list[Item]]:
    return {"paul": [identify(PAUL, 0)], "lea": [identify(LEA, 1)], "call": ivr_call()}


def check(h: Harness, call: list[Item]) -> None:
    """The call's contacts (what ``customer.contacts`` carries) on Léa's customer alone; Paul keeps the landline, his
    screen pop names him only; no review, and no customer left but theirs (the call's own customer, where one was
    made, merged into hers). The IVR record alone may pass through Paul's (``claim_node.on_give``: it came before
    both identifies and its customer of the landline merged into his, bringing no name)."""
    h.local.run()
    h.local.check_consistent()
    paul, lea = (root(h, h.customer("USER_ID", user) or "") for user in (PAUL[0], LEA[0]))
    assert paul != lea and h.customer("PHONE", LANDLINE) == paul
    assert landed(h, [item for item in call if item[1] == CONTACTS]) == {lea}
    names = (h.local.store.profiles.get(paul) or {}).get("name", {}).get("seen", {}).values()
    assert {name["given_name"] for name in names} == {"Paul"}
    assert contact_ids(h, lea) == {CALL_ID} and contact_ids(h, paul) == set()
    assert not h.decisions(ReviewRequested)
    assert set(h.local.roots()) == {paul, lea}
    node = h.local.store.nodes[h.key("PHONE", LANDLINE)]
    assert isinstance(node, IdentifierState) and {root(h, key) for key in node.kept_apart} <= {paul, lea}


def test_the_call_is_hers_in_every_order_of_the_five_events() -> None:
    """Each identify, the CTR's two contact events and its IVR record, in all 120 orders, each settled on arrival."""
    events = [item for items in household().values() for item in items]
    for order in itertools.permutations(range(len(events))):
        h = Harness(matcher_settings())
        for index in order:
            h.feed(*events[index])
        check(h, events[2:])


def layouts() -> dict[str, int]:
    """Partition counts of ``LocalGraph`` (crc32 of the node key) that put the landline's node with Paul's user id
    only, with Léa's only, with both, apart from both; and one partition."""
    h = Harness(matcher_settings())
    keys = [h.key("PHONE", LANDLINE), h.key("USER_ID", PAUL[0]), h.key("USER_ID", LEA[0])]
    found = {"one-partition": 1}
    for count in range(2, 13):
        landline, paul, lea = (zlib.crc32(key.encode()) % count for key in keys)
        kind = {(True, False): "with-paul", (False, True): "with-lea", (True, True): "with-both",
                (False, False): "apart"}[landline == paul, landline == lea]
        found.setdefault(kind, count)
    assert len(found) == 5, found
    return found


LAYOUTS = layouts()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("order", list(itertools.permutations(("paul", "lea", "call"))), ids="-".join)
def test_the_call_is_hers_whatever_the_landlines_partition_and_the_interleaving(
        layout: str, order: tuple[str, ...]) -> None:
    """The three arrivals unsettled, their messages interleaved across the partitions by seed, with copies
    (at-least-once): the tester's 8 concurrent senders."""
    for seed in range(4):
        blocks = household()
        h = Harness(matcher_settings(), partitions=LAYOUTS[layout], seed=seed, duplicates=0.2)
        for name in order:
            for item in blocks[name]:
                h.feed(*item, settle=False)
        check(h, blocks["call"])


@pytest.mark.parametrize("attributes", [{"firstName": "Léa"}, {"dateOfBirth": "1999-08-15"}], ids=["first", "birth"])
def test_a_call_with_thin_ivr_traits_is_hers_in_every_order_and_interleaving(attributes: dict[str, str]) -> None:
    """A first name alone or a birth date alone files the call's own customer under no blocking key: the landline
    proposes it with Léa's customer when either is kept apart through it after the other (``seek.propose_housemates``),
    weighed with the landline in common (before: on her in the orders where she was on the landline first, on its
    own customer in the others, and a birth date alone split the call's two contact events in 3 of 96 runs)."""
    outcomes = set()
    for order in itertools.permutations(("paul", "lea", "call")):
        for layout, seed in [("one-partition", None), *((layout, seed) for layout in LAYOUTS for seed in range(3))]:
            blocks = {**household(), "call": ivr_call(attributes)}
            h = Harness(matcher_settings(), partitions=LAYOUTS[layout], seed=seed,
                        duplicates=0.2 if seed is not None else 0.0)
            for name in order:
                for item in blocks[name]:
                    h.feed(*item, settle=seed is None)
            h.local.run()
            lea = root(h, h.customer("USER_ID", LEA[0]) or "")
            outcomes.add(landed(h, [item for item in blocks["call"] if item[1] == CONTACTS]) == {lea})
    assert outcomes == {True}
